import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cri, taskEvents, packAny, unpackAny, methodPath, tasks } from './index.js';

test('a CRI message with nanosecond timestamps survives encode and decode exactly', () => {
  const createdAt = 1_764_441_600_123_456_789n; // beyond 2^53: needs bigint
  const msg = cri.PodSandbox.fromPartial({
    id: 'abc', metadata: { name: 'web', namespace: 'default', uid: 'u1', attempt: 2 },
    state: cri.PodSandboxState.SANDBOX_READY, createdAt, labels: { app: 'web' },
  });
  const back = cri.PodSandbox.decode(cri.PodSandbox.encode(msg).finish());
  assert.equal(back.createdAt, createdAt);
  assert.equal(back.metadata?.attempt, 2);
  assert.deepEqual(back.labels, { app: 'web' });
  assert.equal(back.state, cri.PodSandboxState.SANDBOX_READY);
});

test('a containerd event packed in Any unpacks only as its own type', () => {
  const exit = taskEvents.TaskExit.fromPartial({ containerId: 'c1', pid: 42, exitStatus: 137 });
  const any = packAny('containerd.events.TaskExit', taskEvents.TaskExit, exit);
  assert.equal(unpackAny(any, 'containerd.events.TaskExit', taskEvents.TaskExit)?.exitStatus, 137);
  assert.equal(unpackAny(any, 'containerd.events.TaskOOM', taskEvents.TaskOOM), undefined);
});

test('generic definitions give the gRPC path containerd serves', () => {
  assert.equal(methodPath(tasks.TasksDefinition, tasks.TasksDefinition.methods.create), '/containerd.services.tasks.v1.Tasks/Create');
});
