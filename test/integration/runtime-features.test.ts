// Status through the CRI socket reports each configured runtime handler with the features the real
// runc and crun binaries of this machine declare (`<binary> features`) or, for a crun without that
// subcommand (1.8.1 here), what its release implements and a real run of it confirms, as far as crikit
// implements them (recursive read-only mounts and user namespaces: both, where the binary and kernel allow).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { after, before, test } from 'node:test';
import { createRuntime, type CriRuntime } from '@crikit/server';
import { criClient, type CriClient } from '../support/cri-client.js';
import { tempRuntimeDirs } from '../support/crikitd.js';
import { testLogger } from '../support/test-logger.js';

interface HandlerDetails {
  binary?: string;
  error?: string;
  runtime?: { recursiveReadOnlyMounts: boolean; idmapMounts: boolean; userNamespace: boolean };
  derived?: { identity?: string; runtime?: HandlerDetails['runtime']; probe?: { failures: object; ms: number }; error?: string };
  idmapMounts: boolean;
  detected: { recursiveReadOnlyMounts: boolean; userNamespaces: boolean };
  reported: { recursiveReadOnlyMounts: boolean; userNamespaces: boolean };
}

/** What the test reads from a binary itself: its `features` JSON, or undefined when it has no such subcommand. */
function ownFeatures(binary: string): { mountOptions?: string[]; linux?: { namespaces?: string[]; mountExtensions?: { idmap?: { enabled?: boolean } } } } | undefined {
  const version = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  assert.equal(version.status, 0, `${binary} is needed for this test: apt-get install ${binary}`);
  const run = spawnSync(binary, ['features'], { encoding: 'utf8' });
  return run.status === 0 ? JSON.parse(run.stdout) : undefined;
}

const dirs = tempRuntimeDirs();
let runtime: CriRuntime;
let c: CriClient;

before(async () => {
  runtime = createRuntime({
    logger: testLogger(),
    config: { ...dirs.config, runtimes: { defaultHandler: 'runc', handlers: { runc: {}, crun: { binaryName: 'crun' } } } },
  });
  await runtime.start(AbortSignal.timeout(60_000));
  c = criClient(runtime.socket);
});
after(async () => {
  c?.close();
  await runtime?.stop(AbortSignal.timeout(30_000));
  dirs.cleanup();
});

test('Status lists every handler, the default again under \'\', with what the binaries support and crikit implements', async t => {
  const res = await c.runtime.status({ verbose: true });
  assert.deepEqual(res.runtimeHandlers.map(h => h.name), ['crun', 'runc', '']);
  assert.deepEqual(res.runtimeHandlers.find(h => h.name === '')?.features, res.runtimeHandlers.find(h => h.name === 'runc')?.features);
  assert.equal(res.features?.supplementalGroupsPolicy, true);

  const details = JSON.parse(res.info.runtimeFeatures!) as { kernel: { release: string }; handlers: Record<string, HandlerDetails> };
  assert.equal(details.kernel.release, os.release());
  const [major, minor] = os.release().split('.').map(Number) as [number, number];
  const kernelRro = major > 5 || (major === 5 && minor >= 12);
  for (const name of ['runc', 'crun']) {
    const own = ownFeatures(name);
    const got = details.handlers[name]!;
    assert.equal(got.binary, name);
    if (!own) {
      assert.match(got.error ?? '', new RegExp(`^${name} features: `), `${name} without a features subcommand says why`);
      const version = /^crun version (\S+)/.exec(spawnSync(name, ['--version'], { encoding: 'utf8' }).stdout)?.[1];
      if (!version) {
        assert.deepEqual(got.detected, { recursiveReadOnlyMounts: false, userNamespaces: false });
        continue;
      }
      // crun: its --version names the release, and the probe saw every feature work on this host.
      assert.equal(got.derived?.identity, `crun ${version}`);
      assert.deepEqual(got.derived?.probe?.failures, {});
      t.diagnostic(`${name}: the probe took ${got.derived!.probe!.ms} ms`);
      assert.deepEqual(got.runtime, got.derived?.runtime);
      assert.equal(got.detected.recursiveReadOnlyMounts, got.runtime!.recursiveReadOnlyMounts && kernelRro);
      continue;
    }
    assert.equal(got.error, undefined);
    assert.deepEqual(got.runtime, {
      recursiveReadOnlyMounts: own.mountOptions?.includes('rro') ?? false,
      idmapMounts: own.linux?.mountExtensions?.idmap?.enabled === true,
      userNamespace: own.linux?.namespaces?.includes('user') ?? false,
    });
    assert.equal(got.detected.recursiveReadOnlyMounts, got.runtime!.recursiveReadOnlyMounts && kernelRro);
  }
  // rro and user namespaces are implemented: reported exactly where detected.
  for (const name of ['runc', 'crun']) {
    assert.equal(res.runtimeHandlers.find(h => h.name === name)?.features?.recursiveReadOnlyMounts, details.handlers[name]!.detected.recursiveReadOnlyMounts, name);
    assert.equal(res.runtimeHandlers.find(h => h.name === name)?.features?.userNamespaces, details.handlers[name]!.detected.userNamespaces, name);
    const own = ownFeatures(name);
    // A user namespace needs the binary's `user` namespace and the kernel's consent (not idmapped mounts: a rootfs is remapped without).
    if (own) assert.equal(details.handlers[name]!.detected.userNamespaces, own.linux?.namespaces?.includes('user') ?? false, name);
  }
  // This machine's runc (1.1.5) declares rro and the kernel (6.x) has mount_setattr; crun 1.8.1 has it since 1.4 and the probe saw it work.
  assert.equal(details.handlers.runc!.detected.recursiveReadOnlyMounts, true);
  assert.equal(details.handlers.crun!.detected.recursiveReadOnlyMounts, true);
  // Both run pods in a user namespace; only crun (1.8.1 on) makes idmapped mounts, runc 1.1 does not.
  assert.equal(res.runtimeHandlers.find(h => h.name === 'runc')?.features?.userNamespaces, true);
  assert.equal(res.runtimeHandlers.find(h => h.name === 'crun')?.features?.userNamespaces, true);
  assert.deepEqual([details.handlers.runc!.idmapMounts, details.handlers.crun!.idmapMounts], [false, true]);
});
