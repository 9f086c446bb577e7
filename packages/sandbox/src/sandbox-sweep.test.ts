import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { sandboxPaths, silentLogger, UnavailableError, type SandboxId } from '@crikit/core';
import { FakeNetworkNamespaces, FakePodNetwork, randomId, sandboxRecord, sandboxStoreWith } from '@crikit/core/testing';
import { SandboxSweep } from './sandbox-sweep.js';

async function fixture() {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'crikit-sweep-'));
  const paths = { rootDir: path.join(root, 'root'), stateDir: path.join(root, 'state') };
  const netns = new FakeNetworkNamespaces(path.join(paths.stateDir, 'netns'));
  const network = new FakePodNetwork();
  /** Leaves what a RunPodSandbox of `id` makes on disk: the files and the (unmounted) shm dir. */
  const leave = async (id: string) => {
    const p = sandboxPaths(paths, id);
    await fs.mkdir(p.dir, { recursive: true });
    await fs.writeFile(p.hostname, 'x\n');
    await fs.mkdir(p.shm, { recursive: true });
    netns.adopt(`${netns.dir}/${id}`);
  };
  return { root, paths, netns, network, leave, cleanup: () => fs.rm(root, { recursive: true, force: true }) };
}

test('sweeps the netns, files, state and network attachments of ids no pod has; keeps the pods\'', async () => {
  const f = await fixture();
  try {
    // A pin at a path of its own (kept by path) besides the one named after it (kept by name).
    const kept = sandboxRecord({ metadata: { netnsPath: `${f.netns.dir}/pinned-elsewhere` } });
    const unknown = sandboxRecord({ metadata: { netnsPath: undefined }, status: { state: 'unknown' } });
    const orphan = randomId();
    for (const id of [kept.metadata.id, unknown.metadata.id, orphan]) await f.leave(id);
    f.netns.adopt(kept.metadata.netnsPath!);
    await f.network.attach({ id: orphan as SandboxId } as never, AbortSignal.timeout(1_000));
    const sweep = new SandboxSweep(sandboxStoreWith([kept, unknown]), f.network, f.netns, f.paths, silentLogger);
    await sweep.start();

    assert.deepEqual(f.network.argsOf('collectGarbage').map(a => a[0]), [[kept.metadata.id, unknown.metadata.id]]);
    assert.equal(f.network.attached.has(orphan as SandboxId), false);
    assert.deepEqual(f.netns.calls, [`remove ${f.netns.dir}/${orphan}`], 'a pod\'s pin stays, also one named after a pod recovered as unknown');
    for (const dir of ['sandboxes']) {
      assert.deepEqual((await fs.readdir(path.join(f.paths.rootDir, dir))).sort(), [kept.metadata.id, unknown.metadata.id].sort());
      assert.deepEqual((await fs.readdir(path.join(f.paths.stateDir, dir))).sort(), [kept.metadata.id, unknown.metadata.id].sort());
    }
  } finally {
    await f.cleanup();
  }
});

test('a failing step is logged, the others still run, and start-up goes on', async () => {
  const f = await fixture();
  try {
    const orphan = randomId();
    await f.leave(orphan);
    f.network.failNext('collectGarbage', new UnavailableError('cni plugin missing'));
    await new SandboxSweep(sandboxStoreWith([]), f.network, f.netns, f.paths, silentLogger).start();
    assert.deepEqual(await f.netns.list(), []);
    assert.deepEqual(await fs.readdir(path.join(f.paths.rootDir, 'sandboxes')), []);
  } finally {
    await f.cleanup();
  }
});

test('nothing to sweep when crikit never ran: no dirs is fine', async () => {
  const f = await fixture();
  try {
    await new SandboxSweep(sandboxStoreWith([]), f.network, f.netns, f.paths, silentLogger).start();
    assert.deepEqual(f.netns.calls, []);
  } finally {
    await f.cleanup();
  }
});
