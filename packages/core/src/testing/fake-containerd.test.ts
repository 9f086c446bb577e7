import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Any } from '@crikit/api';
import type { ContainerdClient } from '../contracts/containerd-client.js';
import { AlreadyExistsError, CancelledError, NotFoundError, UnavailableError, UnimplementedError } from '../errors.js';
import { FakeContainerd } from './fake-containerd.js';

const collect = async <T>(items: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
};

describe('FakeContainerd', () => {
  it('is a ContainerdClient whose unhandled methods reject with UnimplementedError naming them', async () => {
    const client: ContainerdClient = new FakeContainerd();
    await assert.rejects(client.tasks.start({ containerId: 'x' }), (err: unknown) =>
      err instanceof UnimplementedError && err.message.includes('tasks.start'));
    await assert.rejects(collect(client.snapshots.list({ snapshotter: 'overlayfs' })), UnimplementedError);
  });

  it('answers version and namespaces out of the box', async () => {
    const fake = new FakeContainerd('crikit-test');
    assert.equal((await fake.version.version({})).version, 'v2.0.0-fake');
    assert.deepEqual((await fake.namespaces.list({})).namespaces.map(n => n.name), ['crikit-test']);
  });

  it('keeps containers in memory with containerd errors, labels filters and masked updates', async () => {
    const fake = new FakeContainerd();
    const ext = Any.fromPartial({ typeUrl: 'crikit.metadata', value: Buffer.from('{}') });
    await fake.containers.create({ container: { id: 'sb1', labels: { 'io.cri-containerd.kind': 'sandbox' }, extensions: { meta: ext } } });
    await fake.containers.create({ container: { id: 'ct1', labels: { 'io.cri-containerd.kind': 'container' } } });
    await assert.rejects(fake.containers.create({ container: { id: 'sb1' } }), AlreadyExistsError);
    const sandboxes = await fake.containers.list({ filters: ['labels."io.cri-containerd.kind"==sandbox'] });
    assert.deepEqual(sandboxes.containers.map(c => c.id), ['sb1']);
    assert.deepEqual((await collect(fake.containers.listStream({}))).map(m => m.container?.id), ['sb1', 'ct1']);
    const got = (await fake.containers.get({ id: 'sb1' })).container;
    assert.ok(got?.createdAt && got.extensions.meta?.value.toString() === '{}');
    await fake.containers.update({ container: { id: 'sb1', labels: { extra: 'yes' }, image: 'ignored' }, updateMask: ['labels.extra'] });
    const updated = (await fake.containers.get({ id: 'sb1' })).container;
    assert.deepEqual(updated?.labels, { 'io.cri-containerd.kind': 'sandbox', extra: 'yes' });
    assert.equal(updated?.image, '');
    await fake.containers.delete({ id: 'sb1' });
    await assert.rejects(fake.containers.get({ id: 'sb1' }), NotFoundError);
    await assert.rejects(fake.containers.delete({ id: 'sb1' }), NotFoundError);
  });

  it('records every call with its complete request', async () => {
    const fake = new FakeContainerd();
    await fake.containers.create({ container: { id: 'a' } });
    await fake.isHealthy(new AbortController().signal);
    assert.deepEqual(fake.calls.map(c => c.method), ['containers.create', 'isHealthy']);
    assert.equal(fake.requestsTo('containers.create')[0]?.container?.snapshotter, '');
  });

  it('failNext fails the next call of that method only', async () => {
    const fake = new FakeContainerd();
    fake.failNext('containers.get', new UnavailableError('containerd down'));
    fake.failNext('waitReady', new UnavailableError('socket missing'));
    await assert.rejects(fake.containers.get({ id: 'x' }), UnavailableError);
    await assert.rejects(fake.containers.get({ id: 'x' }), NotFoundError);
    await assert.rejects(fake.waitReady(new AbortController().signal), UnavailableError);
    await fake.waitReady(new AbortController().signal);
    fake.failNext('events.subscribe', new UnavailableError('stream broke'));
    await assert.rejects(collect(fake.events.subscribe({ filters: [] })), UnavailableError);
  });

  it('handle() installs typed handlers for unary, server-stream and bidirectional methods', async () => {
    const fake = new FakeContainerd()
      .handle('tasks.create', req => ({ containerId: req.containerId, pid: 4242 }))
      .handle('events.subscribe', () => [{ topic: '/tasks/exit', namespace: 'k8s.io' }])
      .handle('content.write', async function* (requests) {
        let total = 0;
        for await (const req of requests) {
          total += req.data.length;
          yield { offset: BigInt(total) };
        }
      });
    assert.equal((await fake.tasks.create({ containerId: 'c1' })).pid, 4242);
    assert.deepEqual((await collect(fake.events.subscribe({}))).map(e => e.topic), ['/tasks/exit']);
    const write = fake.content.write();
    await write.send({ ref: 'r', data: Buffer.from('abc') });
    await write.send({ ref: 'r', data: Buffer.from('de') });
    write.end();
    assert.deepEqual((await collect(write.responses)).map(r => r.offset), [3n, 5n]);
    assert.equal(fake.calls.filter(c => c.method === 'content.write').length, 3);
    const cancelled = fake.content.write();
    cancelled.cancel();
    await assert.rejects(collect(cancelled.responses), CancelledError);
  });

  it('rejects calls after close and calls whose signal fired', async () => {
    const fake = new FakeContainerd();
    await assert.rejects(fake.version.version({}, { signal: AbortSignal.abort() }), CancelledError);
    fake.healthy = false;
    assert.equal(await fake.isHealthy(new AbortController().signal), false);
    fake.close();
    await assert.rejects(fake.version.version({}), UnavailableError);
  });
});
