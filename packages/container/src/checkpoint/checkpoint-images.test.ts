import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { packAny, runcOptions, unpackAny } from '@crikit/api';
import { FailedPreconditionError, InvalidArgumentError, RuntimeEventBus, silentLogger, type ContainerRecord } from '@crikit/core';
import { containerRecord, containerStoreWith, FakeContainerd } from '@crikit/core/testing';
import { writeArchive } from './checkpoint-archive.js';
import { CheckpointImages } from './checkpoint-images.js';
import { archiveSource, directorySource } from './checkpoint-source.js';
import { CriuProbe, type CriuStatus } from './criu-probe.js';

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'crikit-checkpoint-images-test-'));
after(() => fs.rm(tmp, { recursive: true, force: true }));
const signal = (): AbortSignal => AbortSignal.timeout(10_000);

class StubbornCriu extends CriuProbe {
  constructor(private readonly answer: CriuStatus) { super(); }
  override async status(): Promise<CriuStatus> { return this.answer; }
}

function setup(record: ContainerRecord, criu: CriuStatus = { usable: true }) {
  const rootDir = path.join(tmp, `root-${record.metadata.id.slice(0, 8)}`);
  const containerd = new FakeContainerd();
  containerd.containerRecords.set(record.metadata.id, {
    id: record.metadata.id, labels: {}, image: '', snapshotter: 'overlayfs', snapshotKey: record.metadata.id, extensions: {}, spec: undefined,
    runtime: { name: 'io.containerd.runc.v2', options: packAny('containerd.runc.v1.Options', runcOptions.Options, runcOptions.Options.fromPartial({ binaryName: 'runc', root: '/run/ck-runc', systemdCgroup: false })) },
    createdAt: undefined, updatedAt: undefined, sandbox: '',
  });
  const bus = new RuntimeEventBus(silentLogger);
  const images = new CheckpointImages(containerStoreWith([record]), containerd, new StubbornCriu(criu), { rootDir, stateDir: path.join(tmp, 'state') }, 'overlayfs', bus, silentLogger);
  return { images, bus, containerd, dir: path.join(rootDir, 'checkpoints', record.metadata.id) };
}

async function archiveWith(name: string, members: Parameters<typeof writeArchive>[1]): Promise<string> {
  const file = path.join(tmp, name);
  await writeArchive(file, members, signal());
  return file;
}

test('install unpacks criu images and the CRI log; taskOptions then point runc at them, keeping the handler options', async () => {
  const logPath = path.join(tmp, 'logs', 'restored.log');
  const record = containerRecord({ metadata: { logPath } });
  const { images, dir } = setup(record);
  assert.equal(await images.taskOptions(record.metadata.id, signal()), undefined, 'nothing to restore before install');
  const archive = await archiveWith('images.tar', [
    { name: 'config.dump', data: Buffer.from('{}') },
    { name: 'checkpoint/', directory: true },
    { name: 'checkpoint/pages-1.img', data: Buffer.from('memory') },
    { name: 'checkpoint/inventory.img', data: Buffer.from('inventory') },
    { name: 'container.log', data: Buffer.from('2026-12-07T01:00:00Z stdout F 41\n') },
  ]);
  await images.install(record.metadata.id, archiveSource(archive), signal());
  assert.deepEqual((await fs.readdir(path.join(dir, 'images'))).sort(), ['inventory.img', 'pages-1.img']);
  assert.equal(await fs.readFile(path.join(dir, 'images', 'pages-1.img'), 'utf8'), 'memory');
  assert.equal(await fs.readFile(logPath, 'utf8'), '2026-12-07T01:00:00Z stdout F 41\n');

  const any = await images.taskOptions(record.metadata.id, signal());
  const options = unpackAny(any, 'containerd.runc.v1.Options', runcOptions.Options)!;
  assert.equal(options.criuImagePath, path.join(dir, 'images'));
  assert.equal(options.criuWorkPath, path.join(dir, 'work'));
  assert.equal(options.binaryName, 'runc');
  assert.equal(options.root, '/run/ck-runc');

  await images.forget(record.metadata.id);
  await assert.rejects(fs.stat(dir), { code: 'ENOENT' });
  assert.equal(await images.taskOptions(record.metadata.id, signal()), undefined);
});

test('install refuses an archive without criu images; taskOptions refuse where criu cannot work', async () => {
  const record = containerRecord();
  const { images } = setup(record, { usable: false, reason: 'criu check failed' });
  const empty = await archiveWith('no-images.tar', [{ name: 'config.dump', data: Buffer.from('{}') }]);
  await assert.rejects(images.install(record.metadata.id, archiveSource(empty), signal()), (err: unknown) => err instanceof InvalidArgumentError && /no criu images/.test(err.message));
  const full = await archiveWith('some-images.tar', [{ name: 'checkpoint/pages-1.img', data: Buffer.from('x') }]);
  await images.install(record.metadata.id, archiveSource(full), signal());
  await assert.rejects(images.taskOptions(record.metadata.id, signal()), (err: unknown) => err instanceof FailedPreconditionError && /criu check failed/.test(err.message));
});

test('the images go with their container, and start-up removes those of containers no longer stored', async () => {
  const record = containerRecord();
  const { images, bus, dir } = setup(record);
  const orphan = path.join(path.dirname(dir), 'gone-container');
  const staging = path.join(path.dirname(dir), '.staging-x-1234');
  await fs.mkdir(path.join(orphan, 'images'), { recursive: true });
  await fs.mkdir(staging, { recursive: true });
  await fs.mkdir(path.join(dir, 'images'), { recursive: true });
  await images.start();
  assert.deepEqual(await fs.readdir(path.dirname(dir)), [record.metadata.id]);
  bus.emit('container:removed', record);
  for (let i = 0; i < 50 && (await fs.stat(dir).catch(() => undefined)); i++) await new Promise(r => setTimeout(r, 10));
  await assert.rejects(fs.stat(dir), { code: 'ENOENT' });
  await images.stop();
});

test('install reads a checkpoint image\'s files as well (a directory: the archive\'s files in its rootfs), never through a link', async () => {
  const record = containerRecord({ metadata: { logPath: '' } });
  const { images, dir } = setup(record);
  const rootfs = path.join(tmp, 'image-rootfs');
  await fs.mkdir(path.join(rootfs, 'checkpoint'), { recursive: true });
  await fs.writeFile(path.join(rootfs, 'config.dump'), '{}');
  await fs.writeFile(path.join(rootfs, 'checkpoint', 'pages-1.img'), 'memory');
  await fs.writeFile(path.join(tmp, 'secret'), 'host file');
  await fs.symlink(path.join(tmp, 'secret'), path.join(rootfs, 'checkpoint', 'core-1.img'));
  await images.install(record.metadata.id, directorySource(rootfs, 'checkpoint image test'), signal());
  assert.deepEqual(await fs.readdir(path.join(dir, 'images')), ['pages-1.img']);
  assert.equal(await fs.readFile(path.join(dir, 'images', 'pages-1.img'), 'utf8'), 'memory');
});
