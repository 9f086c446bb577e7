import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OCI_SPEC_TYPE_URL } from './spec-type-url.js';
import { specJsonOf, verboseInfoJson } from './verbose-info.js';

/** A spec as containerd stores it: its JSON under the OCI spec type URL. */
const toSpecAny = (spec: object) => ({ typeUrl: OCI_SPEC_TYPE_URL, value: Buffer.from(JSON.stringify(spec)) });

describe('verbose status info', () => {
  const spec = { ociVersion: '1.1.0', process: { args: ['sh', '-c', 'echo "hi"'], cwd: '/', user: { uid: 0, gid: 0 } }, hostname: 'web' };

  it('splices the stored spec text in, as parsing and writing it again would', () => {
    const fields = { pid: 42, processStatus: 'running', createdAt: 7n, config: { metadata: { name: 'web' } } };
    const text = specJsonOf(toSpecAny(spec));
    assert.equal(verboseInfoJson(fields, text), JSON.stringify({ ...fields, createdAt: '7', runtimeSpec: spec }));
    assert.deepEqual(JSON.parse(verboseInfoJson({}, text)), { runtimeSpec: spec });
  });

  it('leaves runtimeSpec out when the spec is unknown', () => {
    assert.equal(verboseInfoJson({ pid: 0 }, undefined), '{"pid":0}');
  });

  it('keeps only an OCI spec that is JSON', () => {
    assert.equal(specJsonOf(undefined), undefined);
    assert.equal(specJsonOf({ typeUrl: 'types.containerd.io/other', value: Buffer.from('{}') }), undefined);
    assert.equal(specJsonOf({ ...toSpecAny(spec), value: Buffer.from('{not json') }), undefined);
    assert.equal(specJsonOf({ ...toSpecAny(spec), typeUrl: `/${toSpecAny(spec).typeUrl}` }), JSON.stringify(spec));
  });
});
