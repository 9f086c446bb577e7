import fs from 'node:fs';
import path from 'node:path';
import type { LocalRegistry } from '@crikit/testkit';
import type { TestNetwork } from '../support/pod-fixture.js';
import type { KubeletDriver } from './kubelet-driver.js';
import type { Prng } from './prng.js';

/** The faults the chaos run injects. */
export const faultKinds = ['crikitd-kill', 'containerd-kill', 'cni-fail', 'cni-hang', 'registry-flap'] as const;
export type FaultKind = (typeof faultKinds)[number];
const weights = [30, 20, 15, 15, 20];

/** The RPCs a fault may be aimed at: it strikes a moment after the driver next sends one. */
const targets = ['RunPodSandbox', 'CreateContainer', 'StartContainer', 'ExecSync', 'StopContainer', 'RemoveContainer', 'StopPodSandbox', 'RemovePodSandbox', 'PullImage'];

/** What the injector acts on. */
export interface FaultTarget {
  readonly rng: Prng;
  readonly driver: KubeletDriver;
  readonly network: TestNetwork;
  readonly registry: LocalRegistry;
  /** The managed containerd's state dir (its pid file). */
  readonly containerdStateDir: string;
  /** SIGKILLs crikitd and starts a new one on the same config. */
  restartCrikitd(pauseMs: number): Promise<void>;
  readonly log: (line: string) => void;
}

/** One injected fault, for the report. */
export interface InjectedFault {
  readonly kind: FaultKind;
  readonly at: string;
  readonly ms: number;
}

const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms));

/** Waits until the driver sends `rpc` (or `ms` passes). */
function nextStep(driver: KubeletDriver, rpc: string, ms: number): Promise<boolean> {
  return new Promise(resolve => {
    const t = setTimeout(() => { driver.off('step', on); resolve(false); }, ms);
    const on = (name: string): void => {
      if (name !== rpc) return;
      clearTimeout(t);
      driver.off('step', on);
      resolve(true);
    };
    driver.on('step', on);
  });
}

/**
 * Injects faults one after another, each picked and timed by the PRNG, until `until` says stop; each
 * goes into `done` once over.
 * After a crikitd or containerd kill it checks that every live pod is still there.
 */
export async function injectFaults(t: FaultTarget, until: () => boolean, gapMs: readonly [number, number], done: InjectedFault[], kinds: readonly FaultKind[] = faultKinds): Promise<void> {
  const kindWeights = kinds.map(k => weights[faultKinds.indexOf(k)]!);
  while (!until()) {
    await sleep(t.rng.int(gapMs[0], gapMs[1]));
    if (until()) break;
    const kind = t.rng.pick(kinds, kindWeights);
    const target = targets[t.rng.int(0, targets.length - 1)]!;
    const delay = t.rng.int(0, 400);
    const hit = await nextStep(t.driver, target, 5_000);
    await sleep(delay);
    const at = hit ? `${delay} ms after ${target}` : 'timed';
    const started = Date.now();
    t.log(`fault ${done.length + 1}: ${kind} (${at})`);
    await inject(t, kind);
    done.push({ kind, at, ms: Date.now() - started });
  }
}

async function inject(t: FaultTarget, kind: FaultKind): Promise<void> {
  switch (kind) {
    case 'crikitd-kill':
      await t.restartCrikitd(t.rng.int(0, 1_500));
      await t.driver.verifyLive('after a crikitd SIGKILL and restart');
      return;
    case 'containerd-kill': {
      const pid = Number(fs.readFileSync(path.join(t.containerdStateDir, 'containerd.pid'), 'utf8'));
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone already */ }
      await sleep(t.rng.int(500, 2_000));
      await t.driver.verifyLive('after a containerd SIGKILL');
      return;
    }
    case 'cni-fail':
    case 'cni-hang':
      // The failpoint plugin fails (or hangs in) ADD while the file exists.
      fs.writeFileSync(t.network.failFile, kind === 'cni-hang' ? 'hang' : 'fail');
      await sleep(kind === 'cni-hang' ? t.rng.int(2_000, 7_000) : t.rng.int(1_000, 4_000));
      fs.rmSync(t.network.failFile, { force: true });
      return;
    case 'registry-flap':
      await t.registry.stopProcess();
      await sleep(t.rng.int(500, 3_000));
      await t.registry.restart();
      return;
  }
}
