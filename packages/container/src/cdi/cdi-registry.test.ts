import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { cri } from '@crikit/api';
import { FailedPreconditionError, NotFoundError, silentLogger } from '@crikit/core';
import { containerConfigSchema } from '../container-config.js';
import { CdiRegistry } from './cdi-registry.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'crikit-cdi-test-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let n = 0;
/** A registry over fresh spec dirs, each given as { file name: contents }. */
function registry(...dirs: Record<string, unknown>[]): CdiRegistry {
  const paths = dirs.map(files => {
    const dir = path.join(root, `d${n++}`);
    fs.mkdirSync(dir);
    for (const [name, body] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), typeof body === 'string' ? body : JSON.stringify(body));
    return dir;
  });
  return new CdiRegistry(containerConfigSchema.parse({ cdiSpecDirs: [...paths, path.join(root, 'missing')] }), silentLogger);
}
const spec = (kind: string, devices: Record<string, Record<string, unknown>>, edits?: Record<string, unknown>) => ({
  cdiVersion: '0.6.0', kind, ...(edits ? { containerEdits: edits } : {}),
  devices: Object.entries(devices).map(([name, containerEdits]) => ({ name, containerEdits })),
});
const signal = AbortSignal.timeout(10_000);

describe('CdiRegistry', () => {
  it('resolves json and yaml specs, the spec edits once before its first device, device nodes filled from the host', async () => {
    const yaml = [
      'cdiVersion: "0.6.0"', 'kind: example.com/disk', 'devices:', '  - name: d1', '    containerEdits:',
      '      env: ["DISK=d1"]', '      deviceNodes:', '        - path: /dev/cdi-null', '          hostPath: /dev/null', '          fileMode: 0666',
    ].join('\n');
    const r = registry({
      'a.json': spec('example.com/net', { n1: { env: ['N=1'] }, n2: { env: ['N=2'] } }, { env: ['NET=yes'] }),
      'b.yaml': yaml,
      'ignored.txt': 'not a spec',
    });
    const got = await r.resolve(['example.com/net=n2', 'example.com/disk=d1', 'example.com/net=n1'], signal);
    assert.deepEqual(got.devices, ['example.com/net=n2', 'example.com/disk=d1', 'example.com/net=n1']);
    assert.deepEqual(got.edits.map(e => e.env), [['NET=yes'], ['N=2'], ['DISK=d1'], ['N=1']]);
    // /dev/null is char 1:3; YAML 1.1 reads 0666 as octal, as the reference parser does.
    assert.deepEqual(got.edits[2]!.deviceNodes, [{ path: '/dev/cdi-null', hostPath: '/dev/null', fileMode: 0o666, type: 'c', major: 1, minor: 3 }]);
  });

  it('asks for nothing when no device is requested, even with unreadable dirs', async () => {
    assert.deepEqual(await registry({ 'bad.json': '{' }).resolveFor(cri.ContainerConfig.fromPartial({}), signal), { devices: [], edits: [] });
  });

  it('a later dir replaces a device of an earlier one; two files of one dir make it unresolvable', async () => {
    const r = registry(
      { 'a.json': spec('v.com/c', { x: { env: ['FROM=first'] }, y: { env: ['Y=1'] } }), 'b.json': spec('v.com/c', { y: { env: ['Y=2'] } }) },
      { 'c.json': spec('v.com/c', { x: { env: ['FROM=second'] } }) },
    );
    assert.deepEqual((await r.resolve(['v.com/c=x'], signal)).edits.map(e => e.env), [['FROM=second']]);
    await assert.rejects(r.resolve(['v.com/c=y'], signal), (e: Error) => e instanceof NotFoundError && /"v\.com\/c=y" \(declared by both .*a\.json and .*b\.json\)/.test(e.message));
  });

  it('names every unknown device, the missing kind and the spec files it skipped', async () => {
    const r = registry({ 'a.json': spec('v.com/c', { x: {} }), 'broken.yaml': 'cdiVersion: "0.6.0"\nkind: v.com/d\ndevices:\n  - name: z\n    containerEdits:\n      intelRdt: {}\n' });
    await assert.rejects(r.resolve(['v.com/c=x', 'v.com/c=nope', 'v.com/d=z'], signal), (e: Error) => {
      assert.ok(e instanceof NotFoundError);
      assert.match(e.message, /^unresolvable CDI devices "v\.com\/c=nope", "v\.com\/d=z" \(no spec of kind v\.com\/d\) in /);
      assert.match(e.message, /spec files skipped: .*broken\.yaml: devices\.0\.containerEdits: unknown key intelRdt/);
      return true;
    });
  });

  it('sees a spec file changed, added or removed since the last call', async () => {
    const r = registry({ 'a.json': spec('v.com/c', { x: { env: ['V=1'] } }) });
    const dir = path.join(root, `d${n - 1}`);
    assert.deepEqual((await r.resolve(['v.com/c=x'], signal)).edits[0]!.env, ['V=1']);
    fs.writeFileSync(path.join(dir, 'a.json'), JSON.stringify(spec('v.com/c', { x: { env: ['V=2'] } })));
    fs.writeFileSync(path.join(dir, 'b.yaml'), JSON.stringify(spec('v.com/d', { y: {} })));
    assert.deepEqual((await r.resolve(['v.com/c=x', 'v.com/d=y'], signal)).edits[0]!.env, ['V=2']);
    fs.rmSync(path.join(dir, 'b.yaml'));
    await assert.rejects(r.resolve(['v.com/d=y'], signal), NotFoundError);
  });

  it('refuses a device node whose host path is missing or of another type', async () => {
    const r = registry({ 'a.json': spec('v.com/c', {
      gone: { deviceNodes: [{ path: '/dev/gone', hostPath: path.join(root, 'no-such-device') }] },
      file: { deviceNodes: [{ path: '/dev/file', hostPath: '/etc/hostname' }] },
      block: { deviceNodes: [{ path: '/dev/b', hostPath: '/dev/null', type: 'b' }] },
      given: { deviceNodes: [{ path: '/dev/given', hostPath: path.join(root, 'no-such-device'), type: 'c', major: 10, minor: 200 }] },
    }) });
    await assert.rejects(r.resolve(['v.com/c=gone'], signal), (e: Error) => e instanceof FailedPreconditionError && /\/dev\/gone: host device .*no-such-device: ENOENT/.test(e.message));
    await assert.rejects(r.resolve(['v.com/c=file'], signal), (e: Error) => e instanceof FailedPreconditionError && /not a device node/.test(e.message));
    await assert.rejects(r.resolve(['v.com/c=block'], signal), (e: Error) => e instanceof FailedPreconditionError && /type b, but host \/dev\/null is of type c/.test(e.message));
    // With type and major given, the host is not asked (CDI).
    assert.deepEqual((await r.resolve(['v.com/c=given'], signal)).edits[0]!.deviceNodes![0]!.major, 10);
  });
});
