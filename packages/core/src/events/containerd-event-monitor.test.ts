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
  assert.deepEqual(filters[0], ['namespace==k8s.io,topic=="/tasks/exit"', 'namespace==k8s.io,topic=="/tasks/oom"']);

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
