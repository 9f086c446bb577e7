import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InternalError, InvalidArgumentError, OCI_SPEC_TYPE_URL } from '@crikit/core';
import { defaultLinuxSpec } from './default-spec.js';
import type { OciSpec } from './oci-spec.js';
import { fromSpecAny, specToJson, toSpecAny } from './spec-any.js';

describe('toSpecAny / fromSpecAny', () => {
  it('round-trips a spec as JSON under containerd’s type URL', () => {
    const spec = defaultLinuxSpec({ cgroupsPath: '/k8s.io/x' });
    const any = toSpecAny(spec);
    assert.equal(any.typeUrl, 'types.containerd.io/opencontainers/runtime-spec/1/Spec');
    assert.equal(any.typeUrl, OCI_SPEC_TYPE_URL);
    assert.equal(JSON.parse(any.value.toString('utf8')).ociVersion, '1.1.0');
    assert.deepEqual(fromSpecAny(any), spec);
  });

  it('drops undefined keys and writes bigints as exact integers', () => {
    const spec = { ociVersion: '1.1.0', hostname: undefined, linux: { resources: { memory: { limit: 9007199254740993n } } } };
    assert.equal(specToJson(spec as unknown as OciSpec), '{"ociVersion":"1.1.0","linux":{"resources":{"memory":{"limit":9007199254740993}}}}');
  });

  it('no string can forge the bigint placeholder', () => {
    const forged = ['\u0000bigint:123', '\u0000bigint:-5', 'x\u0000bigint:7'];
    const spec = { ociVersion: '1.1.0', process: { env: forged }, annotations: { a: forged[0]! }, linux: { resources: { memory: { limit: 5n } } } };
    const parsed = JSON.parse(specToJson(spec as unknown as OciSpec)) as { process: { env: unknown[] }; annotations: { a: unknown }; linux: { resources: { memory: { limit: unknown } } } };
    assert.deepEqual(parsed.process.env, forged);
    assert.equal(parsed.annotations.a, forged[0]);
    assert.equal(parsed.linux.resources.memory.limit, 5);
  });

  it('refuses values JSON cannot hold', () => {
    assert.throws(() => specToJson({ ociVersion: '1', process: { oomScoreAdj: NaN } } as unknown as OciSpec), InternalError);
  });

  it('refuses another type, bad JSON and non-specs', () => {
    assert.throws(() => fromSpecAny({ typeUrl: 'x', value: Buffer.from('{}') }), InvalidArgumentError);
    assert.throws(() => fromSpecAny({ typeUrl: OCI_SPEC_TYPE_URL, value: Buffer.from('{') }), InvalidArgumentError);
    assert.throws(() => fromSpecAny({ typeUrl: OCI_SPEC_TYPE_URL, value: Buffer.from('[]') }), InvalidArgumentError);
    assert.throws(() => fromSpecAny({ typeUrl: OCI_SPEC_TYPE_URL, value: Buffer.from('{"a":1}') }), InvalidArgumentError);
  });
});
