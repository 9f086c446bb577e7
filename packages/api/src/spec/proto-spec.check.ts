// Checks our restated proto/ against the upstream wire definitions in ../shared/spec.
// Not part of `pnpm test` (a user's clone has no ../shared): `.ci/run` runs it as `pnpm test:spec`.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadModel, protoFiles, type ProtoModel } from './proto-model.js';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ours = path.join(pkg, 'proto');
const specDir = process.env.CRIKIT_SPEC_DIR ?? path.resolve(pkg, '../../../shared/spec');

/** Our module roots and the spec folder each corresponds to. */
const modules = [
  { ours: 'cri', spec: 'cri-api' },
  { ours: 'containerd', spec: 'containerd-api' },
  { ours: 'cgroups', spec: 'cgroups', specPrefix: 'cgroups/' },
];

function compare(our: ProtoModel, spec: ProtoModel, label: string): void {
  for (const [name, fields] of our.messages) {
    const specFields = spec.messages.get(name);
    assert.ok(specFields, `${label}: message ${name} is not in the spec`);
    for (const [field, shape] of fields) {
      assert.deepEqual(shape, specFields.get(field), `${label}: ${name}.${field} differs from the spec`);
    }
    assert.deepEqual([...fields.keys()].sort(), [...specFields.keys()].sort(), `${label}: ${name} has other fields than the spec`);
  }
  for (const [name, values] of our.enums) {
    assert.deepEqual(Object.fromEntries(values), Object.fromEntries(spec.enums.get(name) ?? []), `${label}: enum ${name} differs`);
  }
  for (const [name, method] of our.methods) {
    assert.deepEqual(method, spec.methods.get(name), `${label}: rpc ${name} differs from the spec`);
  }
}

test('the spec folder is there', () => {
  assert.ok(fs.existsSync(specDir), `no spec at ${specDir}: set CRIKIT_SPEC_DIR`);
});

for (const m of modules) {
  test(`proto/${m.ours} matches ${m.spec} in the spec`, () => {
    const ourRoot = path.join(ours, m.ours);
    const files = protoFiles(ourRoot);
    const specRoot = path.join(specDir, m.spec);
    const our = loadModel([ourRoot, path.join(ours, 'google')], files);
    const specRoots = m.specPrefix ? [path.join(specDir)] : [specRoot, path.join(ours, 'google')];
    const spec = loadModel(specRoots, files.map(f => m.specPrefix ? f : f));
    assert.ok(our.messages.size > 0, 'no messages loaded');
    compare(our, spec, m.ours);
  });
}

test('proto/cri defines the whole CRI runtime.v1: every message, enum and rpc', () => {
  const our = loadModel([path.join(ours, 'cri')], ['runtime/v1/api.proto']);
  const spec = loadModel([path.join(specDir, 'cri-api')], ['runtime/v1/api.proto']);
  assert.deepEqual([...our.messages.keys()].sort(), [...spec.messages.keys()].sort());
  assert.deepEqual([...our.enums.keys()].sort(), [...spec.enums.keys()].sort());
  assert.deepEqual([...our.methods.keys()].sort(), [...spec.methods.keys()].sort());
  const rpcs = [...spec.methods.keys()].filter(k => k.startsWith('runtime.v1.RuntimeService.') || k.startsWith('runtime.v1.ImageService.'));
  assert.equal(rpcs.length, 41, 'cri-api v0.36.3 has 41 RPCs');
});
