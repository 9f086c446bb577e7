// GetContainerEvents subscribers through a real gRPC server on a unix socket: a client that stops
// reading or goes away is dropped with its bus listeners, and shutdown never waits on a listener.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { cri } from '@crikit/api';
import { RuntimeEventBus, silentLogger, type ContainerRecord } from '@crikit/core';
import { containerRecord, containerStoreWith, sandboxRecord, sandboxStoreWith } from '@crikit/core/testing';
import { ContainerEventHandlers, maxQueuedContainerEvents } from './container-event-handlers.js';
import { CriGrpcServer } from './cri-grpc-server.js';
import { LoggingRpcWrapper, ReadinessGate } from './grpc/rpc-wrapper.js';
import { serverConfigSchema } from './server-config.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ck-events-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const pod = sandboxRecord();
// A container with a long command line, so that the HTTP/2 window fills after a few hundred events.
const ctr: ContainerRecord = containerRecord({ metadata: { args: ['x'.repeat(2_000)] } } as never, pod);

let n = 0;
async function serve() {
  const bus = new RuntimeEventBus(silentLogger);
  const gate = new ReadinessGate();
  gate.open();
  const socket = path.join(dir, `s${n++}.sock`);
  const handlers = new ContainerEventHandlers(bus, sandboxStoreWith([pod]), containerStoreWith([ctr]));
  const server = new CriGrpcServer(serverConfigSchema.parse({ socket }), silentLogger, new LoggingRpcWrapper(silentLogger, gate), [handlers]);
  await server.listen();
  const client = new cri.RuntimeServiceClient(`unix:${socket}`, grpc.credentials.createInsecure());
  return { bus, server, client, handlers };
}

const listeners = (bus: RuntimeEventBus) => (['container:created', 'container:started', 'container:exited', 'container:removed'] as const)
  .reduce((sum, e) => sum + bus.listenerCount(e), 0);

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !ok(); i++) await new Promise(r => setTimeout(r, 20));
  assert.ok(ok(), what);
}

// Emits in batches so the socket gets to move bytes in between.
async function emit(bus: RuntimeEventBus, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    bus.emit('container:started', ctr);
    if (i % 50 === 49) await new Promise(r => setImmediate(r));
  }
}

test('a client that stops reading is dropped once it falls behind: listeners removed, RESOURCE_EXHAUSTED', async () => {
  const { bus, server, client } = await serve();
  const call = client.getContainerEvents(cri.GetEventsRequest.fromPartial({}));
  let received = 0;
  const ended = new Promise<grpc.ServiceError | undefined>(resolve => {
    call.on('error', resolve);
    call.on('end', () => resolve(undefined));
  });
  call.on('data', () => { if (++received === 1) call.pause(); });
  await until('subscribed', () => listeners(bus) === 4);
  await emit(bus, 1);
  await until('first event read', () => received === 1);
  await emit(bus, maxQueuedContainerEvents * 3);
  await until('the stalled subscriber loses its listeners', () => listeners(bus) === 0);
  call.resume();
  const err = await ended;
  assert.equal(err?.code, grpc.status.RESOURCE_EXHAUSTED, String(err));
  assert.match(err!.details, /fell behind/);
  assert.ok(received < maxQueuedContainerEvents * 3, `received ${received}`);
  client.close();
  await server.shutdown(AbortSignal.timeout(5_000));
});

test('a client that goes away while the server waits for it to read loses its listeners', async () => {
  const { bus, server, client } = await serve();
  const call = client.getContainerEvents(cri.GetEventsRequest.fromPartial({}));
  call.on('error', () => undefined);
  call.on('data', () => call.pause());
  await until('subscribed', () => listeners(bus) === 4);
  // Enough to fill the HTTP/2 window and the write buffer, not enough to overflow the queue.
  await emit(bus, maxQueuedContainerEvents / 2);
  await new Promise(r => setTimeout(r, 100));
  assert.equal(listeners(bus), 4);
  call.cancel();
  await until('the cancelled subscriber loses its listeners', () => listeners(bus) === 0);
  client.close();
  await server.shutdown(AbortSignal.timeout(5_000));
});

test('shutdown ends open event streams with UNAVAILABLE instead of waiting for them', async () => {
  const { bus, server, client } = await serve();
  const call = client.getContainerEvents(cri.GetEventsRequest.fromPartial({}));
  const ended = new Promise<grpc.ServiceError | undefined>(resolve => {
    call.on('error', resolve);
    call.on('end', () => resolve(undefined));
  });
  call.on('data', () => undefined);
  await until('subscribed', () => listeners(bus) === 4);
  // A signal that never fires: shutdown must finish on its own.
  await server.shutdown(new AbortController().signal);
  const err = await ended;
  assert.equal(err?.code, grpc.status.UNAVAILABLE, String(err));
  assert.equal(listeners(bus), 0);
  client.close();
});

test('a long-lived stream adds no abort listener per event', async () => {
  const bus = new RuntimeEventBus(silentLogger);
  const rpc = new ContainerEventHandlers(bus, sandboxStoreWith([pod]), containerStoreWith([ctr])).runtime();
  const ac = new AbortController();
  const it = rpc.getContainerEvents!(cri.GetEventsRequest.fromPartial({}), ac.signal)[Symbol.asyncIterator]();
  for (let i = 0; i < 200; i++) {
    const next = it.next();
    bus.emit('container:created', ctr);
    assert.equal((await next).value?.containerId, ctr.metadata.id);
    assert.ok(getEventListeners(ac.signal, 'abort').length <= 1, `${getEventListeners(ac.signal, 'abort').length} abort listeners after ${i + 1} events`);
  }
  ac.abort();
  assert.equal((await it.next()).done, true);
  assert.equal(listeners(bus), 0);
});
