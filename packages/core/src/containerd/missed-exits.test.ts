import assert from 'node:assert/strict';
import { test } from 'node:test';
import { taskTypes } from '@crikit/api';
import { NotFoundError } from '../errors.js';
import { FakeContainerd } from '../testing/fake-containerd.js';
import { missedExits } from './missed-exits.js';

const { RUNNING, STOPPED, CREATED } = taskTypes.Status;

test('stopped tasks give their status, vanished ones 255, running ones nothing; each miss is asked again', async () => {
  const containerd = new FakeContainerd();
  const listed = [
    { containerId: 'run', id: 'run', pid: 10, status: RUNNING },
    { containerId: 'stop', id: 'stop', pid: 11, status: STOPPED, exitStatus: 137, exitedAt: { seconds: 5n, nanos: 1 } },
  ];
  // 'late' had no task when the list was taken but runs by the time it is asked again.
  const now: Record<string, { containerId: string; id: string; pid: number; status: taskTypes.Status; exitStatus?: number; exitedAt?: { seconds: bigint; nanos: number } }> = {
    stop: listed[1]!, late: { containerId: 'late', id: 'late', pid: 12, status: CREATED },
  };
  containerd.handle('tasks.list', () => ({ tasks: listed }));
  containerd.handle('tasks.get', req => {
    const p = now[req.containerId];
    if (!p) throw new NotFoundError(`task ${req.containerId}`);
    return { process: p };
  });
  const before = BigInt(Date.now()) * 1_000_000n;
  const exits = await missedExits(containerd, ['run', 'stop', 'gone', 'late'], AbortSignal.timeout(5_000));
  assert.deepEqual(exits.map(e => [e.containerId, e.exitStatus]), [['stop', 137], ['gone', 255]]);
  assert.equal(exits[0]!.exitedAt, 5_000_000_001n);
  assert.ok(exits[1]!.exitedAt >= before, 'a vanished task exits now');
  assert.deepEqual(containerd.requestsTo('tasks.get').map(r => r.containerId), ['stop', 'gone', 'late'], 'the running one is not asked again');
});

test('no ids: containerd is not asked', async () => {
  const containerd = new FakeContainerd();
  assert.deepEqual(await missedExits(containerd, [], AbortSignal.timeout(1_000)), []);
  assert.equal(containerd.calls.length, 0);
});
