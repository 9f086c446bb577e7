// WatchPullProgress through a real gRPC server on a unix socket: what a watcher receives, and that a
// watcher that stops reading, goes away or outlives the server leaves the bus.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { crikit } from '@crikit/api';
import { RuntimeEventBus, silentLogger } from '@crikit/core';
import { CriGrpcServer } from './cri-grpc-server.js';
import { LoggingRpcWrapper, ReadinessGate } from './grpc/rpc-wrapper.js';
import { maxQueuedPullProgress, PullProgressHandlers } from './pull-progress-handlers.js';
import { serverConfigSchema } from './server-config.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ck-progress-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

let n = 0;
async function serve() {
  const bus = new RuntimeEventBus(silentLogger);
  const gate = new ReadinessGate();
  gate.open();
  const socket = path.join(dir, `s${n++}.sock`);
  const server = new CriGrpcServer(serverConfigSchema.parse({ socket }), silentLogger, new LoggingRpcWrapper(silentLogger, gate), [new PullProgressHandlers(bus)]);
  await server.listen();
  const client = new crikit.ImagesClient(`unix:${socket}`, grpc.credentials.createInsecure());
  return { bus, server, client };
}

const listeners = (bus: RuntimeEventBus): number => bus.listenerCount('image:pull-progressed');

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !ok(); i++) await new Promise(r => setTimeout(r, 20));
  assert.ok(ok(), what);
}

function watch(client: crikit.ImagesClient, image: string) {
  const call = client.watchPullProgress(crikit.WatchPullProgressRequest.fromPartial({ image }));
  const received: crikit.PullProgress[] = [];
  const ended = new Promise<grpc.ServiceError | undefined>(resolve => {
    call.on('error', resolve);
    call.on('end', () => resolve(undefined));
  });
  call.on('data', (m: crikit.PullProgress) => received.push(m));
  return { call, received, ended };
}

const progress = (ref: string, bytesDone = 1) => ({ ref, layerDigest: `sha256:${'a'.repeat(64)}`, bytesDone, bytesTotal: 10 });

test('a watch gets an empty first message, then the progress of its normalised reference only', async () => {
  const { bus, server, client } = await serve();
  const w = watch(client, 'busybox');
  await until('subscribed', () => w.received.length === 1);
  assert.deepEqual(w.received[0], crikit.PullProgress.fromPartial({}));
  bus.emit('image:pull-progressed', progress('docker.io/library/alpine:latest'));
  bus.emit('image:pull-progressed', progress('docker.io/library/busybox:latest', 7));
  await until('the busybox progress', () => w.received.length === 2);
  assert.deepEqual(w.received[1], crikit.PullProgress.fromPartial({ image: 'docker.io/library/busybox:latest', layerDigest: `sha256:${'a'.repeat(64)}`, bytesDone: 7n, bytesTotal: 10n }));
  w.call.cancel();
  await until('the watcher leaves the bus', () => listeners(bus) === 0);
  client.close();
  await server.shutdown(AbortSignal.timeout(5_000));
});

test('a watcher that stops reading is dropped once it falls behind: listener removed, RESOURCE_EXHAUSTED', async () => {
  const { bus, server, client } = await serve();
  const w = watch(client, '');
  let paused = false;
  w.call.on('data', () => { if (!paused) { paused = true; w.call.pause(); } });
  await until('subscribed', () => listeners(bus) === 1 && w.received.length === 1);
  // Long references, so that the HTTP/2 window and the socket buffers fill long before the queue does.
  const long = `example.com/${'x'.repeat(2_000)}:v1`;
  for (let i = 0; i < maxQueuedPullProgress * 3; i++) {
    bus.emit('image:pull-progressed', progress(long, i));
    if (i % 50 === 49) await new Promise(r => setImmediate(r));
  }
  await until('the stalled watcher loses its listener', () => listeners(bus) === 0);
  w.call.resume();
  const err = await w.ended;
  assert.equal(err?.code, grpc.status.RESOURCE_EXHAUSTED, String(err));
  assert.match(err!.details, /fell behind/);
  assert.ok(w.received.length < maxQueuedPullProgress * 3, `received ${w.received.length}`);
  client.close();
  await server.shutdown(AbortSignal.timeout(5_000));
});

test('shutdown ends open watches with UNAVAILABLE; a bad reference is INVALID_ARGUMENT', async () => {
  const { bus, server, client } = await serve();
  const bad = watch(client, 'Not A Reference');
  assert.equal((await bad.ended)?.code, grpc.status.INVALID_ARGUMENT);
  const w = watch(client, '');
  await until('subscribed', () => listeners(bus) === 1);
  await server.shutdown(new AbortController().signal);
  assert.equal((await w.ended)?.code, grpc.status.UNAVAILABLE);
  assert.equal(listeners(bus), 0);
  client.close();
});
