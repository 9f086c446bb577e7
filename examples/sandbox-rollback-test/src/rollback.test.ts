// The user's PoolPodNetwork inside crikit's real sandbox manager: when RunPodSandbox fails, at the
// backend or after it, every step is undone and the backend gets its address back.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { errorKind, ResourceExhaustedError, UnavailableError, type SandboxId } from '@crikit/core';
import { fakeNode, runRequest } from './fake-node.js';
import { PoolPodNetwork } from './pool-pod-network.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crikit-example-rollback-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const clean = { netns: [], containers: 0, tasks: [], snapshots: [] };
const deadline = () => AbortSignal.timeout(10_000);

test('a pod gets an address from the pool and gives it back when removed', async () => {
  const network = new PoolPodNetwork(['10.1.0.2']);
  const node = fakeNode(network, path.join(dir, 'a'));
  const id = await node.manager.run(runRequest('web'), deadline());
  assert.equal(node.store.get(id).status.ip, '10.1.0.2');
  assert.deepEqual(network.available, []);
  await node.manager.stop(id, deadline());
  await node.manager.remove(id, deadline());
  assert.deepEqual(network.available, ['10.1.0.2']);
  assert.deepEqual(await node.leftovers(), clean);
});

test('an exhausted pool fails RunPodSandbox with RESOURCE_EXHAUSTED and leaves no trace of the pod', async () => {
  const network = new PoolPodNetwork(['10.1.0.2']);
  const node = fakeNode(network, path.join(dir, 'b'));
  const first = await node.manager.run(runRequest('first'), deadline());
  const before = await node.leftovers();

  await assert.rejects(node.manager.run(runRequest('second'), deadline()), (err: unknown) => {
    assert.ok(err instanceof ResourceExhaustedError, String(err));
    assert.equal(errorKind(err), 'resource-exhausted');
    return true;
  });
  // Only the first pod is left: the second's netns was unpinned, its name released, nothing in containerd.
  assert.deepEqual(node.store.list().map(r => r.metadata.id), [first]);
  assert.deepEqual(await node.leftovers(), before);

  // Once the first pod is gone its address is free, and the same pod name runs (the name was released).
  await node.manager.remove(first, deadline());
  const second = await node.manager.run(runRequest('second'), deadline());
  assert.equal(node.store.get(second).status.ip, '10.1.0.2');
});

// containerd failing at each step after the network was attached: the rollback must detach.
for (const step of ['containers.create', 'snapshots.prepare', 'tasks.create', 'tasks.start'] as const) {
  test(`a failure at ${step}, after attach, detaches the pod and returns its address`, async () => {
    const network = new PoolPodNetwork(['10.1.0.2', '10.1.0.3']);
    const node = fakeNode(network, path.join(dir, `c-${step}`));
    node.containerd.failNext(step, new UnavailableError(`${step}: containerd is down`));

    await assert.rejects(node.manager.run(runRequest('web'), deadline()), UnavailableError);
    const attached = network.calls.filter(c => c.startsWith('attach ')).map(c => c.slice(7) as SandboxId);
    assert.equal(attached.length, 1, 'the backend was attached before the failing step');
    assert.ok(network.calls.includes(`detach ${attached[0]}`), `rollback detached: ${network.calls.join(', ')}`);
    assert.deepEqual([...network.available].sort(), ['10.1.0.2', '10.1.0.3']);
    assert.equal(network.leases.size, 0);
    assert.equal(node.store.list().length, 0);
    assert.deepEqual(await node.leftovers(), clean);
  });
}

// RunPodSandbox goes on after its caller gives up, and the kubelet's retry joins that attempt, so a
// backend sees one attach and no address is leaked or leased twice.
test('a caller that gives up does not cost a second address: the retry gets the same pod', async () => {
  const network = new PoolPodNetwork(['10.1.0.2', '10.1.0.3']);
  const node = fakeNode(network, path.join(dir, 'd'));
  const kubelet = new AbortController();
  kubelet.abort(new Error('kubelet gave up'));
  await assert.rejects(node.manager.run(runRequest('web'), kubelet.signal));
  const id = await node.manager.run(runRequest('web'), deadline());
  assert.equal(network.calls.filter(c => c.startsWith('attach ')).length, 1);
  assert.deepEqual([...network.leases.entries()], [[id, '10.1.0.2']]);
  assert.equal(node.store.list().length, 1);
});
