import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { Any, runcOptions, unpackAny } from '@crikit/api';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, silentLogger, UnavailableError, type ContainerRecord } from '@crikit/core';
import { containerRecord, containerStoreWith, FakeContainerd } from '@crikit/core/testing';
import { archiveMembers } from './archive-fixtures.js';
import { ContainerCheckpointer, statusDump } from './container-checkpointer.js';
import { CriuProbe, type CriuStatus } from './criu-probe.js';

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'crikit-checkpointer-test-'));
after(() => fs.rm(tmp, { recursive: true, force: true }));

/** A probe that answers what the test says instead of running criu. */
class StubbornCriu extends CriuProbe {
  constructor(private readonly answer: CriuStatus) { super(); }
  override async status(): Promise<CriuStatus> { return this.answer; }
}
const usable = new StubbornCriu({ usable: true, version: '3.17.1' });

/** A containerd that checkpoints like runc would: criu's files land in the image path it is given. */
function checkpointingContainerd(record: ContainerRecord): FakeContainerd {
  const containerd = new FakeContainerd();
  containerd.containerRecords.set(record.metadata.id, {
    id: record.metadata.id, labels: {}, image: '', snapshotter: 'overlayfs', snapshotKey: record.metadata.id, extensions: {},
    runtime: { name: 'io.containerd.runc.v2', options: undefined }, spec: Any.fromPartial({ typeUrl: 'spec', value: Buffer.from('{"ociVersion":"1.0.2"}') }),
    createdAt: undefined, updatedAt: undefined, sandbox: '',
  });
  containerd.handle('tasks.pause', () => ({}));
  containerd.handle('tasks.resume', () => ({}));
  containerd.handle('tasks.checkpoint', async req => {
    const options = unpackAny(req.options, 'containerd.runc.v1.CheckpointOptions', runcOptions.CheckpointOptions)!;
    assert.equal(options.exit, false, 'the container is left running');
    await fs.writeFile(path.join(options.imagePath, 'pages-1.img'), 'memory');
    await fs.writeFile(path.join(options.imagePath, 'inventory.img'), 'inventory');
    await fs.writeFile(path.join(options.workPath, 'dump.log'), 'criu said hello');
    return {};
  });
  containerd.handle('snapshots.stat', () => ({ info: { name: record.metadata.id, parent: 'sha256:chain' } }));
  containerd.handle('snapshots.view', () => ({ mounts: [{ type: 'bind', source: '/image', options: ['ro'] }] }));
  containerd.handle('snapshots.mounts', () => ({ mounts: [{ type: 'bind', source: '/rw', options: ['rw'] }] }));
  containerd.handle('snapshots.remove', () => ({}));
  containerd.handle('leases.create', req => ({ lease: { id: req.id } }));
  containerd.handle('leases.delete', () => ({}));
  containerd.handle('diff.diff', () => ({ diff: { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: 'sha256:diff', size: 10n } }));
  containerd.handle('content.read', () => [{ data: Buffer.from('layer'), offset: 0n }, { data: Buffer.from('-diff'), offset: 5n }]);
  return containerd;
}

function checkpointer(containerd: FakeContainerd, record: ContainerRecord, criu: CriuProbe = usable): ContainerCheckpointer {
  return new ContainerCheckpointer(containerStoreWith([record]), containerd, criu, { rootDir: path.join(tmp, 'root'), stateDir: path.join(tmp, 'state') }, 'overlayfs', silentLogger);
}


const running = (): ContainerRecord => containerRecord({ status: { state: 'running', pid: 4242, startedAt: 1_700_000_000_000_000_000n } });

test('a running container is checkpointed into an archive in the CRI-O / containerd layout, paused only meanwhile', async () => {
  const record = running();
  const containerd = checkpointingContainerd(record);
  const location = path.join(tmp, 'ok.tar');
  await checkpointer(containerd, record).checkpoint(record.metadata.id, location, 0, AbortSignal.timeout(10_000));

  const members = await archiveMembers(location);
  assert.deepEqual([...members.keys()], ['config.dump', 'spec.dump', 'status.dump', 'checkpoint/inventory.img', 'checkpoint/pages-1.img', 'rootfs-diff.tar', 'dump.log']);
  const config = JSON.parse(members.get('config.dump')!);
  assert.equal(config.id, record.metadata.id);
  assert.equal(config.name, record.metadata.name);
  assert.equal(config.rootfsImageName, 'docker.io/library/busybox:latest');
  assert.equal(config.rootfsImageRef, record.metadata.imageRef);
  assert.equal(config.runtime, 'io.containerd.runc.v2');
  assert.equal(config.restored, false);
  assert.ok(!Number.isNaN(Date.parse(config.checkpointedTime)));
  assert.equal(members.get('spec.dump'), '{"ociVersion":"1.0.2"}');
  assert.equal(members.get('checkpoint/pages-1.img'), 'memory');
  assert.equal(members.get('rootfs-diff.tar'), 'layer-diff');
  assert.equal(members.get('dump.log'), 'criu said hello');

  const order = containerd.calls.map(c => c.method).filter(m => ['tasks.pause', 'tasks.checkpoint', 'diff.diff', 'tasks.resume'].includes(m));
  assert.deepEqual(order, ['tasks.pause', 'tasks.checkpoint', 'diff.diff', 'tasks.resume']);
  const diff = containerd.calls.find(c => c.method === 'diff.diff')!.request as { left: { source: string }[]; right: { source: string }[]; mediaType: string };
  assert.equal(diff.left[0]!.source, '/image');
  assert.equal(diff.right[0]!.source, '/rw');
  assert.equal(diff.mediaType, 'application/vnd.oci.image.layer.v1.tar');
  // The view of the image and the lease are gone; so is the staging dir.
  assert.ok(containerd.calls.some(c => c.method === 'snapshots.remove'));
  assert.ok(containerd.calls.some(c => c.method === 'leases.delete'));
  assert.deepEqual(await fs.readdir(path.join(tmp, 'root', 'checkpoints')), []);
});

test('the task is resumed and nothing is left at the location when criu fails', async () => {
  const record = running();
  const containerd = checkpointingContainerd(record);
  containerd.handle('tasks.checkpoint', () => { throw new UnavailableError('runc did not terminate successfully: criu failed'); });
  const location = path.join(tmp, 'failed.tar');
  await assert.rejects(checkpointer(containerd, record).checkpoint(record.metadata.id, location, 5, AbortSignal.timeout(10_000)), /criu failed/);
  assert.ok(containerd.calls.some(c => c.method === 'tasks.resume'));
  await assert.rejects(fs.stat(location), { code: 'ENOENT' });
});

test('refusals: not running, a bad location, criu unusable; none touches the task', async () => {
  const created = containerRecord();
  const containerd = checkpointingContainerd(created);
  const signal = AbortSignal.timeout(10_000);
  await assert.rejects(checkpointer(containerd, created).checkpoint(created.metadata.id, path.join(tmp, 'x.tar'), 0, signal),
    (err: unknown) => err instanceof FailedPreconditionError && /it is created; only running containers/.test(err.message));
  const record = running();
  const c = checkpointer(checkpointingContainerd(record), record);
  await assert.rejects(c.checkpoint(record.metadata.id, 'relative.tar', 0, signal), (err: unknown) => err instanceof InvalidArgumentError && /not an absolute path/.test(err.message));
  await assert.rejects(c.checkpoint(record.metadata.id, path.join(tmp, 'no-dir', 'x.tar'), 0, signal), (err: unknown) => err instanceof InvalidArgumentError && /does not exist/.test(err.message));
  await assert.rejects(c.checkpoint(record.metadata.id, tmp, 0, signal), (err: unknown) => err instanceof InvalidArgumentError && /not a regular file/.test(err.message));
  await assert.rejects(c.checkpoint(record.metadata.id, '', 0, signal), (err: unknown) => err instanceof InvalidArgumentError && /location is required/.test(err.message));
  await assert.rejects(c.checkpoint('f00d' as never, path.join(tmp, 'x.tar'), 0, signal), NotFoundError);
  const broken = new StubbornCriu({ usable: false, version: '3.17.1', reason: 'criu 3.17.1 check failed on this host: Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds' });
  const untouched = checkpointingContainerd(record);
  await assert.rejects(checkpointer(untouched, record, broken).checkpoint(record.metadata.id, path.join(tmp, 'x.tar'), 0, signal),
    (err: unknown) => err instanceof FailedPreconditionError && err.message.includes('needs criu') && err.message.includes('vDSO'));
  assert.deepEqual(untouched.calls.filter(call => call.method.startsWith('tasks.')), []);
  assert.deepEqual(containerd.calls.filter(call => call.method.startsWith('tasks.')), []);
});

test('status.dump carries the CRI status with Go JSON names and exact int64 times', () => {
  const record = running();
  const dump = statusDump(record);
  assert.match(dump, /"started_at":1700000000000000000[,}]/);
  const parsed = JSON.parse(dump);
  assert.equal(parsed.id, record.metadata.id);
  assert.equal(parsed.state, 1); // CONTAINER_RUNNING
  assert.equal(parsed.image.image, 'docker.io/library/busybox:latest');
  assert.equal(parsed.image_ref, record.metadata.imageRef);
  assert.equal(parsed.log_path, record.metadata.logPath);
  assert.equal(parsed.metadata.name, record.metadata.config.metadata!.name);
});
