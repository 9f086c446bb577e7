import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cdiSpecSchema, parseQualifiedCdiName, requiredCdiVersion } from './cdi-spec.js';

const spec = (patch: Record<string, unknown> = {}) => ({
  cdiVersion: '0.5.0', kind: 'vendor.com/device',
  devices: [{ name: 'one', containerEdits: { env: ['A=1'], deviceNodes: [{ path: '/dev/one', hostPath: '/dev/null' }] } }],
  ...patch,
});
const issues = (raw: unknown): string[] => {
  const r = cdiSpecSchema.safeParse(raw);
  return r.success ? [] : r.error.issues.map(i => `${i.path.join('.')}: ${i.code === 'unrecognized_keys' ? `unknown ${i.keys.join(',')}` : i.message}`);
};

describe('cdiSpecSchema', () => {
  it('reads the documented subset', () => {
    const parsed = cdiSpecSchema.parse(spec({
      containerEdits: { mounts: [{ hostPath: '/opt/lib', containerPath: '/usr/lib/x', options: ['ro', 'bind'] }],
        hooks: [{ hookName: 'createRuntime', path: '/bin/hook', args: ['hook', 'x'], env: ['B=2'], timeout: 5 }] },
    }));
    assert.equal(parsed.devices[0]!.containerEdits.deviceNodes![0]!.hostPath, '/dev/null');
    assert.equal(parsed.containerEdits!.hooks![0]!.hookName, 'createRuntime');
  });
  it('refuses unknown keys (intelRdt is outside the subset) rather than dropping an edit', () => {
    assert.deepEqual(issues(spec({ containerEdits: { intelRdt: { closID: 'x' } } })), ['containerEdits: unknown intelRdt']);
    assert.deepEqual(issues(spec({ extra: 1 })), [': unknown extra']);
  });
  it('checks version, kind, names, env, hook names, permissions and duplicates', () => {
    assert.match(issues(spec({ cdiVersion: '9.9.9' })).join(), /cdiVersion/);
    for (const kind of ['foo', 'vendor.com/foo/', 'vendor.com/foo/bar', '-v.com/x']) assert.match(issues(spec({ kind })).join(), /kind: must be vendor\/class/, kind);
    assert.match(issues(spec({ devices: [{ name: 'bad name', containerEdits: {} }] })).join(), /devices\.0\.name/);
    assert.match(issues(spec({ devices: [{ name: 'a', containerEdits: { env: ['NOEQUALS'] } }] })).join(), /env\.0: must be NAME=value/);
    assert.match(issues(spec({ devices: [{ name: 'a', containerEdits: { hooks: [{ hookName: 'later', path: '/x' }] } }] })).join(), /hookName/);
    assert.match(issues(spec({ devices: [{ name: 'a', containerEdits: { deviceNodes: [{ path: '/dev/a', permissions: 'rx' }] } }] })).join(), /permissions/);
    assert.match(issues(spec({ devices: [{ name: 'a', containerEdits: { deviceNodes: [{ path: 'dev/a' }] } }] })).join(), /absolute/);
    assert.match(issues(spec({ devices: [{ name: 'a', containerEdits: {} }, { name: 'a', containerEdits: {} }] })).join(), /"a" is listed twice/);
    assert.match(issues(spec({ devices: [] })).join(), /at least one device/);
  });
  it('refuses a spec whose fields need a later version than it declares', () => {
    assert.match(issues(spec({ cdiVersion: '0.4.0' })).join(), /cdiVersion: the fields used need at least 0\.5\.0/);
    assert.deepEqual(issues(spec({ cdiVersion: '0.6.0' })), []);
  });
});

describe('requiredCdiVersion', () => {
  const base = { kind: 'v.com/c', devices: [{ name: 'a', containerEdits: {} }] };
  it('follows the features each version added', () => {
    assert.equal(requiredCdiVersion(base), '0.3.0');
    assert.equal(requiredCdiVersion({ ...base, containerEdits: { mounts: [{ hostPath: '/a', containerPath: '/b', type: 'bind' }] } }), '0.4.0');
    assert.equal(requiredCdiVersion({ ...base, devices: [{ name: '0a', containerEdits: {} }] }), '0.5.0');
    assert.equal(requiredCdiVersion({ ...base, kind: 'v.com/c.x' }), '0.6.0');
    assert.equal(requiredCdiVersion({ ...base, annotations: { a: 'b' } }), '0.6.0');
    assert.equal(requiredCdiVersion({ ...base, devices: [{ name: 'a', containerEdits: { additionalGids: [5] } }] }), '0.7.0');
  });
});

describe('parseQualifiedCdiName', () => {
  it('takes vendor.com/class=name apart and refuses anything else', () => {
    assert.deepEqual(parseQualifiedCdiName('nvidia.com/gpu=0'), { kind: 'nvidia.com/gpu', name: '0' });
    assert.deepEqual(parseQualifiedCdiName('vendor.com/class=dev:1'), { kind: 'vendor.com/class', name: 'dev:1' });
    for (const bad of ['gpu0', 'nvidia.com/gpu', 'nvidia.com=gpu', '/gpu=0', 'nvidia.com/gpu=', 'nvidia.com/gpu=-x', 'a/b/c=d']) {
      assert.equal(parseQualifiedCdiName(bad), undefined, bad);
    }
  });
});
