import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { it } from 'node:test';
import { terminalSizes } from './terminal-sizes.js';

it('terminalSizes reads JSON sizes joined and split across chunks, skipping anything else', async () => {
  const input = new PassThrough();
  input.write('{"Width":80,"Height":24}{"Wid');
  input.write('th":100,"Height":40}{"nope":1}');
  input.end('{"Width":1,"Height":2}');
  const sizes = [];
  for await (const s of terminalSizes(input)) sizes.push(s);
  assert.deepEqual(sizes, [{ width: 80, height: 24 }, { width: 100, height: 40 }, { width: 1, height: 2 }]);
});

it('terminalSizes matches keys in any case, as Go does: @kubernetes/client-node sends lower-case ones', async () => {
  const input = new PassThrough();
  input.end('{"height":24,"width":80}{"WIDTH":7,"height":"9"}');
  const sizes = [];
  for await (const s of terminalSizes(input)) sizes.push(s);
  assert.deepEqual(sizes, [{ width: 80, height: 24 }]);
});
