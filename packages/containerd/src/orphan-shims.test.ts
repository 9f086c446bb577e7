// OrphanShimSweep on real processes that read like shims: the one of crikit's containerd with no task is
// killed (its bundle dir removed); one with a task, or of another containerd, is left alone.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { NotFoundError, silentLogger, UnavailableError } from '@crikit/core';
import { FakeContainerd, FakeShims, randomId } from '@crikit/core/testing';
import { OrphanShimSweep } from './orphan-shims.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'crikit-orphan-shims-'));
const shims = new FakeShims(root);
after(() => {
  shims.killAll();
  fs.rmSync(root, { recursive: true, force: true });
});

/** A shim of task `id` of the containerd at `address`, running in its bundle dir (made here). */
function fakeShim(id: string, address: string): ChildProcess {
  const bundle = path.join(root, 'state', 'io.containerd.runtime.v2.task', 'k8s.io', id);
  fs.mkdirSync(bundle, { recursive: true });
  return shims.start(id, { address, cwd: bundle });
}
const whenRunning = (child: ChildProcess): Promise<void> => shims.whenRunning(child);

test('a shim of our containerd that serves no task is killed; one with a task or of another containerd stays', async () => {
  const ours = path.join(root, 'containerd.sock');
  const [lost, running, elsewhere] = [randomId(), randomId(), randomId()];
  const orphan = fakeShim(lost, ours);
  const live = fakeShim(running, ours);
  const other = fakeShim(elsewhere, path.join(root, 'other.sock'));
  const containerd = new FakeContainerd();
  containerd.handle('tasks.list', () => ({ tasks: [{ id: running, pid: live.pid, status: 2 }] }));
  // The list leaves out a task whose shim did not answer; asked by id, containerd still knows it.
  const slow = randomId();
  const unanswered = fakeShim(slow, ours);
  containerd.handle('tasks.get', req => {
    if (req.containerId === slow) throw new UnavailableError(`task ${slow}: shim did not answer`);
    throw new NotFoundError(`task ${req.containerId}`);
  });
  await Promise.all([orphan, live, other, unanswered].map(whenRunning));
  const sweep = new OrphanShimSweep(containerd, { socketPath: ours }, silentLogger);
  assert.deepEqual(await sweep.sweep(AbortSignal.timeout(10_000)), [lost]);
  await new Promise(r => (orphan.exitCode !== null || orphan.signalCode !== null ? r(undefined) : orphan.once('exit', r)));
  assert.equal(orphan.signalCode, 'SIGKILL');
  assert.equal(fs.existsSync(path.join(root, 'state', 'io.containerd.runtime.v2.task', 'k8s.io', lost)), false);
  assert.equal(live.exitCode ?? live.signalCode, null);
  assert.equal(other.exitCode ?? other.signalCode, null);
  assert.equal(unanswered.exitCode ?? unanswered.signalCode, null, 'a shim containerd may still know is left alone');
});
