import fs from 'node:fs';
import path from 'node:path';
import { startCrikitd, type RunningCrikitd } from '../support/crikitd.js';
import { stopDaemonAndPods } from '../support/pod-cleanup.js';
import { podTestEnv, type PodTestEnv } from '../support/pod-env.js';
import { CriFuzzer } from './cri-fuzzer.js';

/** A crikitd child (so a crash is seen, not shared) on network `n`, and a fuzzer on its socket. */
export interface FuzzEnv {
  readonly env: PodTestEnv;
  readonly daemon: RunningCrikitd;
  readonly fuzzer: CriFuzzer;
  close(): Promise<void>;
}

/**
 * Starts crikitd with its own containerd, the local registry and a CNI network, as the integration
 * tests do. Every registry without its own hosts.toml is sent to 127.0.0.1:9 (nothing listens), so a
 * generated image reference never leaves the machine.
 */
export async function startFuzzEnv(n: number): Promise<FuzzEnv> {
  const env = await podTestEnv(n);
  const hostsDir = (env.config as unknown as { image: { registryConfigDir: string } }).image.registryConfigDir;
  fs.mkdirSync(path.join(hostsDir, '_default'), { recursive: true });
  fs.writeFileSync(path.join(hostsDir, '_default', 'hosts.toml'), 'server = "http://127.0.0.1:9"\n');
  const config = { ...env.config, cni: { ...env.config.cni, pluginTimeoutMs: 20_000 } };
  const daemon = await startCrikitd(config, env.dirs.dir, [], []);
  const scratch = path.join(env.dirs.dir, 'fuzz');
  fs.mkdirSync(scratch, { recursive: true });
  const fuzzer = new CriFuzzer(daemon, scratch, env.busybox);
  return {
    env, daemon, fuzzer,
    close: async () => {
      fuzzer.close();
      await stopDaemonAndPods(daemon);
      await env.cleanup();
    },
  };
}
