import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { cri } from '@crikit/api';
import { InvalidArgumentError } from '@crikit/core';
import { writeArchive } from './checkpoint-archive.js';
import { archiveSource } from './checkpoint-source.js';
import { baseImageOf, namesArchive, readCheckpointMetadata, restoredConfig, type CheckpointMetadata } from './restore-config.js';

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'crikit-restore-config-test-'));
after(() => fs.rm(tmp, { recursive: true, force: true }));
const signal = (): AbortSignal => AbortSignal.timeout(10_000);

const meta: CheckpointMetadata = {
  config: { id: 'old-id', name: 'counter_pod_ns_uid-old_0', rootfsImageName: 'registry/busybox:1', rootfsImageRef: 'registry/busybox@sha256:abc', createdTime: '2026-12-07T00:00:00Z', checkpointedTime: '2026-12-07T01:00:00Z', restored: false },
  status: {
    image: { image: 'registry/busybox:1', user_specified_image: 'busybox:1' },
    labels: { 'io.kubernetes.pod.name': 'old-pod' },
    annotations: { 'io.kubernetes.container.hash': 'old-hash', 'io.kubernetes.container.restartCount': '3', 'io.kubernetes.pod.uid': 'uid-old', mine: 'kept' },
  },
  specAnnotations: {},
};

test('restoredConfig keeps the request, on the base image, with the original annotations fixed up as containerd 2.x does', () => {
  const request = cri.ContainerConfig.fromPartial({
    metadata: { name: 'counter-restored', attempt: 0 },
    image: { image: '/var/lib/kubelet/checkpoints/counter.tar' },
    command: ['/bin/sh'],
    labels: { 'io.kubernetes.pod.name': 'new-pod', app: 'x' },
    annotations: { 'io.kubernetes.container.hash': 'new-hash', 'io.kubernetes.container.restartCount': '0', other: 'dropped' },
  });
  const config = restoredConfig(request, meta, 'registry/busybox:1', 'uid-new', '/var/lib/kubelet/checkpoints/counter.tar');
  assert.equal(config.image?.image, 'registry/busybox:1');
  assert.equal(config.image?.userSpecifiedImage, 'busybox:1');
  assert.deepEqual(config.metadata, request.metadata);
  assert.deepEqual(config.command, ['/bin/sh']);
  assert.deepEqual(config.labels, request.labels, 'the kubelet finds its containers by the labels it sent');
  assert.deepEqual(config.annotations, {
    'io.kubernetes.container.hash': 'new-hash', 'io.kubernetes.container.restartCount': '0', 'io.kubernetes.pod.uid': 'uid-new', mine: 'kept',
    restored: 'true', checkpointedAt: '2026-12-07T01:00:00Z', checkpointImage: '/var/lib/kubelet/checkpoints/counter.tar',
  });
});

test('baseImageOf prefers the digest reference', () => {
  assert.equal(baseImageOf(meta), 'registry/busybox@sha256:abc');
  assert.equal(baseImageOf({ ...meta, config: { ...meta.config, rootfsImageRef: '' } }), 'registry/busybox:1');
});

test('readCheckpointMetadata reads the three dumps, and names the one an archive lacks', async () => {
  const good = path.join(tmp, 'good.tar');
  await writeArchive(good, [
    { name: 'config.dump', data: Buffer.from(JSON.stringify(meta.config)) },
    { name: 'spec.dump', data: Buffer.from('{"annotations":{"io.kubernetes.cri.sandbox-id":"s1"}}') },
    { name: 'status.dump', data: Buffer.from(JSON.stringify(meta.status)) },
    { name: 'checkpoint/', directory: true },
    { name: 'checkpoint/pages-1.img', data: Buffer.alloc(4096) },
  ], signal());
  const read = await readCheckpointMetadata(archiveSource(good), signal());
  assert.deepEqual(read.config, meta.config);
  assert.deepEqual(read.status, meta.status);
  assert.deepEqual(read.specAnnotations, { 'io.kubernetes.cri.sandbox-id': 's1' });

  const lacking = path.join(tmp, 'lacking.tar');
  await writeArchive(lacking, [{ name: 'config.dump', data: Buffer.from(JSON.stringify(meta.config)) }], signal());
  await assert.rejects(readCheckpointMetadata(archiveSource(lacking), signal()), (err: unknown) => err instanceof InvalidArgumentError && /no status.dump/.test(err.message));
  const noId = path.join(tmp, 'no-id.tar');
  await writeArchive(noId, [
    { name: 'config.dump', data: Buffer.from('{}') }, { name: 'spec.dump', data: Buffer.from('{}') }, { name: 'status.dump', data: Buffer.from('{}') },
  ], signal());
  await assert.rejects(readCheckpointMetadata(archiveSource(noId), signal()), /config.dump has no container id/);
});

test('namesArchive: only an absolute path of an existing regular file', async () => {
  const file = path.join(tmp, 'archive.tar');
  await fs.writeFile(file, '');
  assert.equal(await namesArchive(file), true);
  assert.equal(await namesArchive(tmp), false);
  assert.equal(await namesArchive(path.join(tmp, 'missing.tar')), false);
  assert.equal(await namesArchive('docker.io/library/busybox:latest'), false);
  assert.equal(await namesArchive('archive.tar'), false);
});
