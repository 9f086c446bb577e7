// updateTaskResources against a fake containerd: a task that exits during the update is the caller's
// FAILED_PRECONDITION, not runc's UNKNOWN text; a live task's failure stays what it was.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InternalError } from '@crikit/core';
import { FakeContainerd } from '@crikit/core/testing';
import { updateTaskResources } from './task-resources.js';

const runcNotRunning = 'containerd tasks.update: runc did not terminate successfully: exit status 1: container not running';

test('an update meeting a task that just exited is FAILED_PRECONDITION naming the container', async () => {
  const containerd = new FakeContainerd();
  containerd.handle('tasks.update', () => { throw new InternalError(runcNotRunning); });
  containerd.handle('tasks.get', () => ({ process: { pid: 0, status: 3 } }));
  await assert.rejects(updateTaskResources(containerd, 'c1', 'web', { memory: { limit: 1 << 26 } }, AbortSignal.timeout(5_000)),
    (e: Error & { kind?: string }) => e.kind === 'failed-precondition' && e.message.includes('container web') && e.message.includes('exited'));
  const sent = containerd.requestsTo('tasks.update')[0]!;
  assert.deepEqual(JSON.parse(Buffer.from(sent.resources!.value).toString()), { memory: { limit: 1 << 26 } });
});

test('a failed update of a task still running is passed on unchanged', async () => {
  const containerd = new FakeContainerd();
  containerd.handle('tasks.update', () => { throw new InternalError('containerd tasks.update: invalid memory limit'); });
  containerd.handle('tasks.get', () => ({ process: { pid: 42, status: 2 } }));
  await assert.rejects(updateTaskResources(containerd, 'c1', 'web', {}, AbortSignal.timeout(5_000)),
    (e: Error & { kind?: string }) => e.kind === 'internal' && e.message.includes('invalid memory limit'));
});
