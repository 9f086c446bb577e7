// The local registry a benchmark's sides pull from: a registry on 127.0.0.1 and a dir of hosts.toml files
// (containerd's certs.d layout) that sends both sides to it over plain http. Both are undone by `teardown`.
import { mkdtempSync } from 'node:fs';
import { LocalRegistry, pushImage, type BuiltImage } from '@crikit/testkit';
import { writeHostsToml } from '../support/registry-fixture.js';
import { claimDir, removeTree, teardown } from './run-benchmark.js';

/** A running benchmark registry. */
export interface BenchRegistry {
  /** The `registryHostsDir` to give both sides. */
  readonly hostsDir: string;
  /** Pushes `image` as `<repository>:<tag>`; resolves with the reference to pull (`host/repository:tag`). */
  push(repository: string, image: BuiltImage, tag: string): Promise<string>;
}

/**
 * Creates the hosts dir (a claimed /tmp/cb-* dir), starts a `LocalRegistry` and writes its hosts.toml there;
 * registers the registry's stop and the dir's removal in `teardown`.
 */
export async function startBenchRegistry(): Promise<BenchRegistry> {
  const hostsDir = mkdtempSync('/tmp/cb-');
  claimDir(hostsDir);
  teardown.add(`remove ${hostsDir}`, async () => removeTree(hostsDir), () => removeTree(hostsDir));
  const registry = await LocalRegistry.start();
  // LocalRegistry's own exit hook kills it if there is no time for stop().
  teardown.add(`stop registry ${registry.host}`, () => registry.stop(), () => {});
  writeHostsToml(hostsDir, registry.host, registry.url);
  return {
    hostsDir,
    push: async (repository, image, tag) => (await pushImage({ url: registry.url }, repository, image, { tag })).reference,
  };
}
