import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { barsView, linesView } from './pull-progress-view.js';

const a = `sha256:${'a'.repeat(64)}`;
const b = `sha256:${'b'.repeat(64)}`;

test('plain lines: one when a layer starts, one when it completes, none in between', () => {
  const lines: string[] = [];
  const view = linesView(l => lines.push(l));
  view.update(a, 100, 2 * 1024 * 1024);
  view.update(b, 0, 1024 * 1024);
  view.update(a, 1024 * 1024, 2 * 1024 * 1024);
  view.update(a, 2 * 1024 * 1024, 2 * 1024 * 1024);
  view.update(a, 2 * 1024 * 1024, 2 * 1024 * 1024);
  view.stop({ complete: true });
  assert.deepEqual(lines, [
    'layer aaaaaaaaaaaa: downloading 2.0 MiB',
    'layer bbbbbbbbbbbb: downloading 1.0 MiB',
    'layer aaaaaaaaaaaa: downloaded 2.0 MiB',
  ]);
});

test('bars: a bar per layer; stopping complete draws every bar full', () => {
  const out = Object.assign(new PassThrough(), { isTTY: true, columns: 160, cursorTo: () => true, moveCursor: () => true, clearLine: () => true, clearScreenDown: () => true }) as unknown as NodeJS.WriteStream;
  let text = '';
  (out as unknown as PassThrough).on('data', (c: Buffer) => { text += c.toString(); });
  const view = barsView(out);
  view.update(a, 512 * 1024, 1024 * 1024);
  view.update(b, 0, 1024 * 1024);
  view.stop({ complete: true });
  assert.match(text, /aaaaaaaaaaaa \[█{30}\] 100% 1\.0\/1\.0 MiB/);
  assert.match(text, /bbbbbbbbbbbb \[█{30}\] 100% 1\.0\/1\.0 MiB/);
});
