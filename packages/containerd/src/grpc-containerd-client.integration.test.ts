import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { content, namespaceEvents, unpackAny } from '@crikit/api';
import {
  CancelledError, DeadlineExceededError, InvalidArgumentError, NotFoundError, silentLogger, UnavailableError,
} from '@crikit/core';
import { containerdConfigSchema, type ContainerdConfig } from './containerd-config.js';
import { GrpcContainerdClient } from './grpc-containerd-client.js';
import { ManagedContainerd } from './managed-containerd.js';

// A real containerd on a private root; short paths because unix socket paths are limited to 107 bytes.
let dir: string;
let config: ContainerdConfig;
let managed: ManagedContainerd;
let client: GrpcContainerdClient;

// A test runner that times a file out sends SIGTERM, which skips 'exit' handlers by default; exiting here runs
// them, so ManagedContainerd's last-resort SIGKILL reaches containerd.
process.once('SIGTERM', () => process.exit(143));

before(async () => {
  dir = await mkdtemp('/tmp/ctd-');
  config = containerdConfigSchema.parse({
    namespace: 'crikit-test',
    managed: { rootDir: `${dir}/root`, stateDir: `${dir}/state`, startTimeoutMs: 20_000 },
  });
  managed = new ManagedContainerd(config, silentLogger);
  await managed.start(AbortSignal.timeout(30_000));
  client = new GrpcContainerdClient(config, { socketPath: managed.address }, silentLogger);
  await client.start(AbortSignal.timeout(10_000));
}, { timeout: 40_000 });

after(async () => {
  client?.close();
  await managed?.stop(AbortSignal.timeout(15_000));
  await rm(dir, { recursive: true, force: true });
}, { timeout: 20_000 });

const bounded = { timeout: 20_000 };

describe('GrpcContainerdClient against a managed containerd', () => {
  it('answers Version and is healthy', bounded, async () => {
    const res = await client.version.version({});
    assert.match(res.version, /^\d+\.\d+/);
    assert.equal(await client.isHealthy(AbortSignal.timeout(5_000)), true);
  });

  it('lists namespaces and, in a fresh namespace, no containers', bounded, async () => {
    const { namespaces } = await client.namespaces.list({});
    assert.ok(Array.isArray(namespaces));
    const { containers } = await client.containers.list({});
    assert.deepEqual(containers, []);
  });

  it('maps NotFound from a unary call, naming the call', bounded, async () => {
    const digest = `sha256:${'0'.repeat(64)}`;
    await assert.rejects(client.content.info({ digest }), (err: unknown) => {
      assert.ok(err instanceof NotFoundError);
      assert.match(err.message, /^containerd content\.info: .*not found/);
      return true;
    });
    await assert.rejects(client.content.status({ ref: 'no-such-ref' }), NotFoundError);
    await assert.rejects(client.containers.get({ id: 'nope' }), NotFoundError);
  });

  it('maps NotFound from a server stream', bounded, async () => {
    const read = client.content.read({ digest: `sha256:${'1'.repeat(64)}` });
    await assert.rejects(async () => { for await (const _ of read) assert.fail('no data expected'); }, NotFoundError);
  });

  it('refuses a request that cannot be encoded, before any I/O', bounded, async () => {
    await assert.rejects(client.content.read({ digest: 'x', offset: 'not a number' })[Symbol.asyncIterator]().next(), InvalidArgumentError);
    await assert.rejects(client.content.info({ digest: 'x', size: 'nope' } as never), InvalidArgumentError);
  });

  it('writes a blob through the bidi Write call, then finds it', bounded, async () => {
    const blob = Buffer.from('hello from crikit\n'.repeat(100));
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    const ref = `crikit-test-${Date.now()}`;
    const total = BigInt(blob.length);
    const call = client.content.write({ signal: AbortSignal.timeout(15_000) });
    const responses = call.responses[Symbol.asyncIterator]();

    await call.send({ action: content.WriteAction.STAT, ref, total, expected: digest });
    assert.equal((await responses.next()).value?.offset, 0n);
    const half = blob.length / 2;
    await call.send({ action: content.WriteAction.WRITE, ref, offset: 0, data: blob.subarray(0, half) });
    assert.equal((await responses.next()).value?.offset, BigInt(half));
    await call.send({
      action: content.WriteAction.COMMIT, ref, total, expected: digest, offset: half, data: blob.subarray(half),
      labels: { 'containerd.io/gc.root': new Date().toISOString() },
    });
    const committed = await responses.next();
    assert.equal(committed.value?.digest, digest);
    assert.equal(committed.value?.offset, total);
    call.end();
    // containerd 1.6 may repeat the commit response before it ends the call; the stream must still end.
    for (let rest = await responses.next(); !rest.done; rest = await responses.next()) {
      assert.equal(rest.value.digest, digest);
    }

    const { info } = await client.content.info({ digest });
    assert.equal(info?.size, total);
  });

  it('holds what a call creates under the lease it names', bounded, async () => {
    const { lease } = await client.leases.create({ id: `crikit-lease-${Date.now()}` });
    assert.ok(lease);
    const blob = Buffer.from(`leased blob ${Date.now()}`);
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    const call = client.content.write({ lease: lease.id, signal: AbortSignal.timeout(15_000) });
    await call.send({ action: content.WriteAction.COMMIT, ref: `leased-${digest}`, total: blob.length, expected: digest, data: blob });
    call.end();
    for await (const _ of call.responses);
    const { resources } = await client.leases.listResources({ id: lease.id });
    assert.deepEqual(resources.map(r => [r.type, r.id]), [['content', digest]]);
    await client.leases.delete({ id: lease.id, sync: true });
  });

  it('rejects sends once the Write call has failed', bounded, async () => {
    const call = client.content.write({});
    // containerd answers a first request without a ref with InvalidArgument and ends the call.
    await call.send({ action: content.WriteAction.STAT });
    await assert.rejects(call.responses[Symbol.asyncIterator]().next(), InvalidArgumentError);
    await assert.rejects(call.send({ action: content.WriteAction.STAT, ref: 'x' }), InvalidArgumentError);
  });

  it('streams events and stops cleanly when the consumer breaks out', bounded, async () => {
    const stream = client.events.subscribe({ filters: ['topic=="/namespaces/create"'] });
    const iterator = stream[Symbol.asyncIterator]();
    const first = iterator.next();
    // Nothing tells us when containerd has registered the subscription: create namespaces until one is seen.
    let created = 0;
    let settled = false;
    void first.finally(() => { settled = true; });
    while (!settled && created < 50) {
      await client.namespaces.create({ namespace: { name: `crikit-evt-${created++}` } });
      await new Promise(resolve => setTimeout(resolve, 100));
    }
    const { value: envelope } = await first;
    assert.equal(envelope?.topic, '/namespaces/create');
    const event = unpackAny(envelope?.event, 'containerd.events.NamespaceCreate', namespaceEvents.NamespaceCreate);
    assert.match(event?.name ?? '', /^crikit-evt-\d+$/);
    // Breaking out of a for-await loop calls return(); the call must be cancelled, not left running.
    assert.deepEqual(await iterator.return?.(undefined), { done: true, value: undefined });
    assert.equal(await client.isHealthy(AbortSignal.timeout(5_000)), true);

    let seen = 0;
    const second = client.events.subscribe({ filters: ['topic=="/namespaces/create"'] });
    const consumer = (async () => { for await (const _ of second) { seen++; break; } })();
    while (seen === 0 && created < 100) {
      await client.namespaces.create({ namespace: { name: `crikit-evt-${created++}` } });
      await new Promise(resolve => setTimeout(resolve, 100));
    }
    await consumer;
    assert.equal(seen, 1);
  });

  it('cancels a stream when its signal fires, and cuts it at its deadline', bounded, async () => {
    const controller = new AbortController();
    const stream = client.events.subscribe({}, { signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    await assert.rejects(async () => { for await (const _ of stream); }, CancelledError);
    await assert.rejects(async () => { for await (const _ of client.events.subscribe({}, { timeoutMs: 200 })); },
      DeadlineExceededError);
  });

  it('rejects a unary call whose signal already fired, without calling containerd', bounded, async () => {
    await assert.rejects(client.version.version({}, { signal: AbortSignal.abort() }), CancelledError);
    const timedOut = AbortSignal.timeout(0);
    await new Promise(resolve => setTimeout(resolve, 5));
    await assert.rejects(client.version.version({}, { signal: timedOut }), DeadlineExceededError);
  });

  it('closes idempotently; later calls reject with UnavailableError', bounded, async () => {
    const other = new GrpcContainerdClient(config, { socketPath: managed.address }, silentLogger);
    await other.version.version({});
    const events = other.events.subscribe({});
    const pending = assert.rejects(async () => { for await (const _ of events); }, UnavailableError);
    await new Promise(resolve => setTimeout(resolve, 100));
    other.close();
    other.close();
    await pending;
    await assert.rejects(other.version.version({}), UnavailableError);
    await assert.rejects(other.events.subscribe({})[Symbol.asyncIterator]().next(), UnavailableError);
    await assert.rejects(other.content.write().send({ ref: 'x' }), UnavailableError);
    assert.equal(await other.isHealthy(AbortSignal.timeout(1_000)), false);
    await assert.rejects(other.waitReady(AbortSignal.timeout(1_000)), UnavailableError);
  });
});
