// Concurrent StartContainer / RemoveContainer on one container, against fakes, with the interleaving
// pinned by gates: the loser gets FAILED_PRECONDITION and the winner's work stays intact.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { AlreadyExistsError, isFailedPrecondition } from '@crikit/core';
import { lifecycleFixture } from './container-lifecycle-fixtures.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'crikit-lifecycle-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** A promise the test resolves when it wants the held call to go on. */
function gate(): { readonly wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>(resolve => { open = resolve; });
  return { wait, open };
}


/** lifecycleFixture, with task Create and snapshot Remove held until `held.*` settles, and a second task Create refused. */
async function setup(n: number) {
  const f = await lifecycleFixture({ rootDir: path.join(root, `root-${n}`), stateDir: path.join(root, `state-${n}`) });
  const held = { create: undefined as Promise<void> | undefined, snapshotsRemove: undefined as Promise<void> | undefined };
  f.containerd.handle('snapshots.remove', async () => { await held.snapshotsRemove; return {}; });
  f.containerd.handle('tasks.create', async req => {
    if (f.tasks.has(req.containerId)) throw new AlreadyExistsError(`task ${req.containerId} already exists`);
    f.tasks.set(req.containerId, { pid: 0, status: 1 });
    await held.create;
    return { containerId: req.containerId, pid: 0 };
  });
  return { ...f, held };
}

const signal = () => AbortSignal.timeout(10_000);

test('a second StartContainer while the first is starting fails FAILED_PRECONDITION and leaves the first task running', async () => {
  const f = await setup(1);
  const hold = gate();
  f.held.create = hold.wait;
  const first = f.lifecycle.start(f.id, signal());
  await new Promise(resolve => setTimeout(resolve, 50));
  await assert.rejects(f.lifecycle.start(f.id, signal()), err => isFailedPrecondition(err) && (err as Error).message.includes(f.id));
  hold.open();
  await first;
  assert.equal(f.store.get(f.id).status.state, 'running');
  assert.equal(f.store.get(f.id).status.reason, '');
  assert.deepEqual(f.tasks.get(f.id), { pid: 4242, status: 2 });
  assert.equal(f.containerd.requestsTo('tasks.kill').length, 0);
  assert.equal(f.containerd.requestsTo('tasks.delete').length, 0);
});

test('RemoveContainer while StartContainer runs fails FAILED_PRECONDITION; the container stays and starts', async () => {
  const f = await setup(2);
  const hold = gate();
  f.held.create = hold.wait;
  const starting = f.lifecycle.start(f.id, signal());
  await new Promise(resolve => setTimeout(resolve, 50));
  await assert.rejects(f.lifecycle.remove(f.id, signal()), err => isFailedPrecondition(err) && (err as Error).message.includes(f.id));
  hold.open();
  await starting;
  assert.equal(f.store.get(f.id).status.state, 'running');
  assert.ok(f.containerd.containerRecords.has(f.id), 'the containerd container is still there');
  assert.equal(f.containerd.requestsTo('snapshots.remove').length, 0);
});

test('StartContainer while RemoveContainer runs fails FAILED_PRECONDITION and makes no task', async () => {
  const f = await setup(3);
  const hold = gate();
  f.held.snapshotsRemove = hold.wait;
  const removing = f.lifecycle.remove(f.id, signal());
  await new Promise(resolve => setTimeout(resolve, 50));
  await assert.rejects(f.lifecycle.start(f.id, signal()), err => isFailedPrecondition(err) && (err as Error).message.includes(f.id));
  hold.open();
  await removing;
  assert.equal(f.store.find(f.id), undefined);
  assert.equal(f.containerd.requestsTo('tasks.create').length, 0);
  assert.equal(f.tasks.size, 0);
});

test('after a start ends, the guard is released: the container can be stopped and removed', async () => {
  const f = await setup(4);
  await f.lifecycle.start(f.id, signal());
  await f.lifecycle.stop(f.id, 0, signal());
  await f.lifecycle.remove(f.id, signal());
  assert.equal(f.store.find(f.id), undefined);
});

test('StopContainer with a timeout above 2^31-1 ms sends the stop signal and waits for the exit, no SIGKILL', async () => {
  const f = await setup(5);
  await f.lifecycle.start(f.id, signal());
  let exit!: () => void;
  const exited = new Promise<void>(resolve => { exit = resolve; });
  // Like containerd's Wait, it gives up when the caller's signal fires.
  f.containerd.handle('tasks.wait', async (_req, opts) => {
    await new Promise<void>((resolve, reject) => {
      void exited.then(resolve);
      opts.signal?.addEventListener('abort', () => reject(new Error('wait cancelled')), { once: true });
    });
    return { exitStatus: 143 };
  });
  // The process takes a moment to go after SIGTERM; it is running until then.
  f.containerd.handle('tasks.kill', req => {
    if (req.signal === 15) setTimeout(() => { f.tasks.get(f.id)!.status = 3; f.io.endAll(); exit(); }, 100);
    return {};
  });
  await f.lifecycle.stop(f.id, 2 ** 32, signal());
  assert.deepEqual(f.containerd.requestsTo('tasks.kill').map(r => r.signal), [15]);
  assert.equal(f.store.get(f.id).status.exitCode, 143);
});

test('StartContainer racing RemovePodSandbox fails FAILED_PRECONDITION naming the pod, not with runc\'s error', async () => {
  const f = await setup(10);
  const hold = gate();
  f.held.create = hold.wait.then(() => { throw new Error('OCI runtime create failed: runc create failed: unable to join namespace: no such process'); });
  const starting = f.lifecycle.start(f.id, signal());
  await new Promise(resolve => setTimeout(resolve, 20));
  const end = f.sandboxes.beginOperation(f.pod.metadata.id, 'removing');
  hold.open();
  const err = await starting.then(() => undefined, (e: Error) => e);
  end();
  assert.ok(err && isFailedPrecondition(err), `FAILED_PRECONDITION, got ${err?.name}: ${err?.message}`);
  assert.match(err.message, new RegExp(`pod ${f.pod.metadata.config.metadata!.namespace}/${f.pod.metadata.config.metadata!.name}`));
  assert.match(err.message, /removing meanwhile: OCI runtime create failed/);
  assert.equal(f.store.get(f.id).status.reason, 'StartError');
});

test('StartContainer while the pod is being stopped fails FAILED_PRECONDITION at once, without a task Create', async () => {
  const f = await setup(11);
  const end = f.sandboxes.beginOperation(f.pod.metadata.id, 'stopping');
  await assert.rejects(f.lifecycle.start(f.id, signal()), (err: Error) => isFailedPrecondition(err) && /is stopping/.test(err.message));
  end();
  assert.equal(f.containerd.requestsTo('tasks.create').length, 0);
  assert.equal(f.store.get(f.id).status.state, 'created');
});
