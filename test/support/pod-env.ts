import path from 'node:path';
import { busyboxImage, pauseImage, pushImage, type LocalRegistry } from '@crikit/testkit';
import { tempRuntimeDirs } from './crikitd.js';
import { fixtureCniDir, writeTestNetwork, type TestNetwork } from './pod-fixture.js';
import { startRegistry } from './registry-fixture.js';
import { assertClean } from '@crikit/testkit';
import { unwatchLeaks, watchLeaks } from './leak-watch.js';

/** What a test that runs pods needs: private dirs, a CNI network, a registry with the images, a config using them. */
export interface PodTestEnv {
  readonly dirs: ReturnType<typeof tempRuntimeDirs>;
  readonly network: TestNetwork;
  readonly registry: LocalRegistry;
  /** The busybox fixture's reference in the registry. */
  readonly busybox: string;
  /** crikit's config: these dirs, the registry over http, the pause image, the CNI network, restrictOomScoreAdj. */
  readonly config: Record<string, unknown> & { cni: { confDir: string }; paths: { rootDir: string; stateDir: string } };
  /**
   * Removes the network, the registry and the dirs (stop crikit first, with stopRuntimeAndPods or
   * stopDaemonAndPods). Then fails with a LeakError if the test leaked anything (@crikit/testkit LeakChecker).
   */
  cleanup(): Promise<void>;
}

/**
 * Sets up a pod test environment on network number `n` (bridge ck<n>, 10.88.<n>.0/24), with the
 * pause and busybox fixtures pushed. `extra` sections are merged over the config's.
 */
export async function podTestEnv(n: number, extra: Record<string, Record<string, unknown>> = {}): Promise<PodTestEnv> {
  const dirs = tempRuntimeDirs();
  const hostsDir = path.join(dirs.dir, 'certs.d');
  const confDir = (dirs.config.cni as { confDir: string }).confDir;
  const network = writeTestNetwork(confDir, dirs.dir, n);
  const registry = await startRegistry(hostsDir);
  await pushImage({ url: registry.url }, 'pause', await pauseImage(), { tag: '3.10' });
  await pushImage({ url: registry.url }, 'busybox', await busyboxImage({ stopSignal: 'SIGTERM', env: ['FROM_IMAGE=yes', 'SHARED=image'] }), { tag: '1' });
  const base: Record<string, Record<string, unknown>> = {
    ...(dirs.config as Record<string, Record<string, unknown>>),
    image: { registryConfigDir: hostsDir },
    sandbox: { sandboxImage: `${registry.host}/pause:3.10` },
    cni: { confDir, binDirs: ['/usr/lib/cni', fixtureCniDir] },
    runtimes: { restrictOomScoreAdj: true },
  };
  for (const [section, values] of Object.entries(extra)) base[section] = { ...base[section], ...values };
  const leaks = await watchLeaks(dirs.dir, network.ipamDir, n);
  return {
    dirs, network, registry, busybox: `${registry.host}/busybox:1`,
    config: base as PodTestEnv['config'],
    cleanup: async () => {
      const report = await leaks.check();
      unwatchLeaks(dirs.dir, leaks);
      network.cleanup();
      await registry.stop();
      dirs.cleanup();
      assertClean(report, `the pod test on network ${n}`);
    },
  };
}
