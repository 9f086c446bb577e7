import assert from 'node:assert/strict';
import { test } from 'node:test';
import { packAny, taskEvents, types } from '@crikit/api';
import { silentLogger } from '../logger.js';
import { AsyncQueue } from '../testing/async-queue.js';
import { FakeContainerd } from '../testing/fake-containerd.js';
import { ContainerdEventMonitor } from './containerd-event-monitor.js';
import type { TaskExit } from './task-events.js';

const envelope = (topic: string, typeUrl: string, any: ReturnType<typeof packAny>) =>
  types.Envelope.fromPartial({ topic, namespace: 'k8s.io', event: { typeUrl, value: any.value } });

test('exits and OOM kills arrive decoded; a broken stream is resubscribed', async () => {
  const containerd = new FakeContainerd();
  const streams: AsyncQueue<types.Envelope>[] = [];
  const filters: string[][] = [];
  containerd.handle('events.subscribe', (req: { filters: string[] }) => {
    filters.push(req.filters);
    const q = new AsyncQueue<types.Envelope>();
    streams.push(q);
    return q;
  });
  const monitor = new ContainerdEventMonitor(containerd, silentLogger);
  const exits: TaskExit[] = [];
  const ooms: string[] = [];
  monitor.events.on('task:exited', e => exits.push(e));
  monitor.events.on('task:oom-killed', id => ooms.push(id));
  await monitor.start();
  assert.deepEqual(filters[0], ['namespace==k8s.io,topic=="/tasks/exit"', 'namespace==k8s.io,topic=="/tasks/oom"', 'namespace==k8s.io,topic=="/crikit/events/subscribed"']);

  streams[0]!.push(envelope('/tasks/exit', 'containerd.events.TaskExit', packAny('containerd.events.TaskExit', taskEvents.TaskExit,
    taskEvents.TaskExit.fromPartial({ containerId: 'c1', id: 'c1', pid: 7, exitStatus: 137, exitedAt: { seconds: 2n, nanos: 5 } }))));
  streams[0]!.push(envelope('/tasks/oom', 'containerd.events.TaskOOM', packAny('containerd.events.TaskOOM', taskEvents.TaskOOM, taskEvents.TaskOOM.fromPartial({ containerId: 'c2' }))));
  for (let i = 0; i < 50 && ooms.length < 1; i++) await new Promise(r => setTimeout(r, 20));
  streams[0]!.fail(new Error('stream broke'));
  for (let i = 0; i < 50 && streams.length < 2; i++) await new Promise(r => setTimeout(r, 20));
  assert.equal(streams.length, 2, 'resubscribed after the stream broke');
  streams[1]!.push(envelope('/tasks/exit', 'containerd.events.TaskExit', packAny('containerd.events.TaskExit', taskEvents.TaskExit,
    taskEvents.TaskExit.fromPartial({ containerId: 'c3', id: 'exec-1', pid: 9, exitStatus: 0 }))));
  for (let i = 0; i < 50 && exits.length < 2; i++) await new Promise(r => setTimeout(r, 20));
  const stopped = monitor.stop();
  streams[1]!.end(); // the fake's stream does not watch the call's signal as gRPC does
  await stopped;

  assert.deepEqual(exits, [
    { containerId: 'c1', id: 'c1', pid: 7, exitStatus: 137, exitedAt: 2_000_000_005n },
    { containerId: 'c3', id: 'exec-1', pid: 9, exitStatus: 0, exitedAt: 0n },
  ]);
  assert.deepEqual(ooms, ['c2']);
});

test('each subscription announces itself once its own marker comes back (republished until it does), not on another subscriber\'s', async () => {
  const containerd = new FakeContainerd();
  const streams: AsyncQueue<types.Envelope>[] = [];
  const published: { topic: string; value: Uint8Array }[] = [];
  containerd.handle('events.subscribe', () => {
    const q = new AsyncQueue<types.Envelope>();
    streams.push(q);
    return q;
  });
  // containerd hands a published event to every live subscriber (here the newest stream, which the fake
  // opens when it is first read). The first marker is lost, as when containerd takes it before the subscription.
  containerd.handle('events.publish', async req => {
    published.push({ topic: req.topic, value: req.event!.value });
    if (published.length === 1) return {};
    await new Promise(r => setTimeout(r, 30));
    streams.at(-1)!.push(types.Envelope.fromPartial({ topic: req.topic, namespace: 'k8s.io', event: req.event! }));
    return {};
  });
  const monitor = new ContainerdEventMonitor(containerd, silentLogger);
  let announced = 0;
  monitor.events.on('stream:subscribed', () => { announced++; });
  await monitor.start();
  for (let i = 0; i < 100 && announced < 1; i++) await new Promise(r => setTimeout(r, 20));
  assert.equal(announced, 1, 'the first subscription is announced, its marker published again after the first was lost');
  assert.equal(published.length, 2);
  // Another crikit's marker on the same namespace is not ours.
  streams[0]!.push(types.Envelope.fromPartial({ topic: '/crikit/events/subscribed', namespace: 'k8s.io', event: { typeUrl: 'crikit.events.Subscribed', value: Buffer.from('other') } }));
  streams[0]!.fail(new Error('containerd restarted'));
  for (let i = 0; i < 100 && announced < 2; i++) await new Promise(r => setTimeout(r, 20));
  assert.equal(announced, 2, 'the resubscription is announced');
  assert.equal(published.length, 3);
  assert.deepEqual(published[0]!.value, published[1]!.value, 'one subscription republishes its own nonce');
  assert.notDeepEqual(published[1]!.value, published[2]!.value, 'each subscription has its own nonce');
  const stopped = monitor.stop();
  streams[1]!.end();
  await stopped;
});
