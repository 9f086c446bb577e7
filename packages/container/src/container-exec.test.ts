// ExecSync against fakes and real FIFOs: the "process" is the test writing into the FIFOs the
// exec request names, so what a backgrounded child or a flood of output does is reproduced exactly.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { InternalError, RuntimeEventBus, silentLogger } from '@crikit/core';
import { toSpecAny } from '@crikit/oci';
import { containerRecord, containerStoreWith, FakeContainerd } from '@crikit/core/testing';
import { containerConfigSchema } from './container-config.js';
import { ContainerExec, execSyncReplyMaxBytes, fitExecSyncReply } from './container-exec.js';
import { ContainerInspection } from './container-inspection.js';
import { ContainerIo } from './container-io.js';
import { openFifoWriter } from './fifo.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'crikit-exec-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

type Process = (paths: { stdout: string; stderr: string }) => Promise<void>;

/** A running container whose exec'd process is `run`: it writes to the FIFOs, then "exits" (code 0). */
async function setup(n: number, run: Process) {
  const record = containerRecord({ status: { state: 'running', pid: 4242 } });
  const id = record.metadata.id;
  const containerd = new FakeContainerd();
  await containerd.containers.create({ container: { id, labels: {}, spec: toSpecAny({ ociVersion: '1.0.2', process: { args: ['sh'], cwd: '/', user: { uid: 0, gid: 0 } } }) } });
  let exited!: () => void;
  const exit = new Promise<void>(resolve => { exited = resolve; });
  let paths = { stdout: '', stderr: '' };
  containerd.handle('tasks.exec', req => { paths = { stdout: req.stdout, stderr: req.stderr }; return {}; });
  containerd.handle('tasks.start', () => { void run(paths).then(exited); return { pid: 4343 }; });
  containerd.handle('tasks.wait', async () => { await exit; return { exitStatus: 0 }; });
  containerd.handle('tasks.deleteProcess', () => ({}));
  const io = new ContainerIo({ rootDir: path.join(root, `root-${n}`), stateDir: path.join(root, `state-${n}`) } as never);
  const store = containerStoreWith([record]);
  // Nothing remembered: the spec comes from containerd, as for a container whose spec was unreadable.
  const inspection = new ContainerInspection(store, new RuntimeEventBus(silentLogger));
  const exec = new ContainerExec(store, containerd, io, containerConfigSchema.parse({}), inspection, silentLogger);
  return { exec, id, containerd, inspection };
}

/** Fails instead of hanging. */
function withinSeconds<T>(p: Promise<T>, seconds: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer after ${seconds}s`)), seconds * 1000); });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

const write = (fifo: string, data: Buffer | string) => new Promise<void>((resolve, reject) => {
  const w = openFifoWriter(fifo);
  w.on('error', reject);
  w.end(data, () => resolve());
});

test('ExecSync answers once the process exits although a background child still holds its output open', async () => {
  let held: fs.WriteStream | undefined;
  const f = await setup(1, async paths => {
    // The command prints, then leaves a child behind with stdout open (`sleep 1000 &`).
    held = fs.createWriteStream(paths.stdout, { flags: 'r+' });
    await new Promise<void>(resolve => held!.write('started\n', () => resolve()));
    await write(paths.stderr, '');
  });
  try {
    const reply = await withinSeconds(f.exec.execSync(f.id, ['sh', '-c', 'echo started; sleep 1000 &'], 0, AbortSignal.timeout(30_000)), 20);
    assert.equal(reply.stdout.toString(), 'started\n');
    assert.equal(reply.exitCode, 0);
  } finally {
    held?.destroy();
  }
});

test('ExecSync output over the gRPC message limit is cut so the reply fits, both streams kept', async () => {
  const big = Buffer.alloc(17 << 20, 'o');
  const f = await setup(2, async paths => {
    await Promise.all([write(paths.stdout, big), write(paths.stderr, Buffer.alloc(17 << 20, 'e'))]);
  });
  const reply = await withinSeconds(f.exec.execSync(f.id, ['cat', 'big'], 0, AbortSignal.timeout(30_000)), 20);
  assert.ok(reply.stdout.length + reply.stderr.length <= execSyncReplyMaxBytes, `${reply.stdout.length} + ${reply.stderr.length} bytes`);
  assert.ok(reply.stdout.length >= execSyncReplyMaxBytes / 2 - 1 && reply.stderr.length >= execSyncReplyMaxBytes / 2 - 1);
  assert.ok(reply.stdout.every(b => b === 0x6f) && reply.stderr.every(b => b === 0x65));
});

test('ExecSync takes the process from the spec kept in memory, with no containerd container Get', async () => {
  const f = await setup(3, async paths => { await Promise.all([write(paths.stdout, 'ok'), write(paths.stderr, '')]); });
  const spec = { ociVersion: '1.0.2', process: { args: ['sh'], cwd: '/work', user: { uid: 7, gid: 7 }, env: ['A=1'] } };
  f.inspection.remember(f.id, { runtimeType: 'io.containerd.runc.v2', snapshotter: 'overlayfs', snapshotKey: f.id, specJson: JSON.stringify(spec) });
  const gets = f.containerd.requestsTo('containers.get').length;
  const reply = await withinSeconds(f.exec.execSync(f.id, ['id', '-u'], 0, AbortSignal.timeout(30_000)), 20);
  assert.equal(reply.stdout.toString(), 'ok');
  assert.equal(f.containerd.requestsTo('containers.get').length, gets);
  const sent = f.containerd.requestsTo('tasks.exec')[0]!;
  assert.deepEqual(JSON.parse(Buffer.from(sent.spec!.value).toString()), { ...spec.process, args: ['id', '-u'], terminal: false });
});

test('fitExecSyncReply gives what one stream leaves unused to the other', () => {
  const b = (n: number) => Buffer.alloc(n);
  assert.deepEqual(Object.values(fitExecSyncReply(b(3), b(4), 10)).map(x => x.length), [3, 4]);
  assert.deepEqual(Object.values(fitExecSyncReply(b(2), b(20), 10)).map(x => x.length), [2, 8]);
  assert.deepEqual(Object.values(fitExecSyncReply(b(20), b(1), 10)).map(x => x.length), [9, 1]);
  assert.deepEqual(Object.values(fitExecSyncReply(b(20), b(20), 10)).map(x => x.length), [5, 5]);
});

test('ExecSync of a command the container lacks is NOT_FOUND naming cmd[0], and its process is still deleted', async () => {
  const f = await setup(4, async () => undefined);
  const runc = 'OCI runtime exec failed: exec failed: unable to start container process: exec: "/nope": stat /nope: no such file or directory: unknown';
  f.containerd.handle('tasks.start', () => { throw new InternalError(`containerd tasks.start: ${runc}`); });
  await assert.rejects(withinSeconds(f.exec.execSync(f.id, ['/nope'], 0, AbortSignal.timeout(30_000)), 20),
    (e: Error & { kind?: string }) => e.kind === 'not-found' && e.message.includes('cmd[0] "/nope" not found in the container') && e.message.includes(runc));
  assert.equal(f.containerd.requestsTo('tasks.deleteProcess').length, 1);
  f.containerd.handle('tasks.start', () => { throw new InternalError('containerd tasks.start: OCI runtime exec failed: exec failed: unable to start container process: exec: "/etc": permission denied: unknown'); });
  await assert.rejects(f.exec.execSync(f.id, ['/etc'], 0, AbortSignal.timeout(30_000)), (e: Error & { kind?: string }) => e.kind === 'permission-denied');
  f.containerd.handle('tasks.start', () => { throw new InternalError('containerd tasks.start: shim disconnected'); });
  await assert.rejects(f.exec.execSync(f.id, ['/bin/true'], 0, AbortSignal.timeout(30_000)), (e: Error & { kind?: string }) => e.kind === 'internal');
});
