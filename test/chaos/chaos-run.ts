import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCrikitd, type RunningCrikitd } from '../support/crikitd.js';
import { stopDaemonAndPods } from '../support/pod-cleanup.js';
import { podTestEnv } from '../support/pod-env.js';
import { faultKinds, injectFaults, type FaultKind, type InjectedFault } from './faults.js';
import { ChaosViolation, KubeletDriver, type DriverStats } from './kubelet-driver.js';
import { cgroupLeftovers, containerdLeftovers, removeCgroupParent } from './leftovers.js';
import { Prng } from './prng.js';

/** How big a chaos run is. */
export interface ChaosOptions {
  readonly seed: number;
  readonly lifecycles: number;
  readonly concurrency: number;
  /** podTestEnv's network number. */
  readonly network: number;
  /** The pause between two faults, drawn from this range. */
  readonly faultGapMs: readonly [number, number];
  /** The kinds of fault to inject (all by default). */
  readonly faults?: readonly FaultKind[];
  readonly log: (line: string) => void;
}

/** What a chaos run did and found. */
export interface ChaosReport {
  readonly seed: number;
  readonly seconds: number;
  readonly stats: DriverStats;
  readonly faults: Record<string, number>;
  readonly crikitdStarts: number;
  /** Broken promises, failed lifecycles and leaks; empty when the run passed. */
  readonly problems: string[];
  /** Where each crikitd's stderr was saved, when the run failed. */
  readonly logDir?: string;
}

/**
 * Runs `lifecycles` pod lifecycles, `concurrency` at a time, through a crikitd child while faults are
 * injected; then removes everything as a kubelet would and checks that nothing was lost or leaked.
 */
export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const rng = new Prng(o.seed);
  const cgroupParent = `crikit-chaos-${o.network}`;
  const env = await podTestEnv(o.network, { cni: { pluginTimeoutMs: 5_000 } });
  const containerdStateDir = (env.config.containerd as { managed: { stateDir: string } }).managed.stateDir;
  const problems: string[] = [];
  let starts = 0;
  let daemon: RunningCrikitd | undefined;
  const daemons: RunningCrikitd[] = [];
  let killing = false;
  const launch = async (): Promise<void> => {
    const d = await startCrikitd(env.config, env.dirs.dir);
    daemons.push(d);
    starts++;
    void d.exited.then(codeOrNull => {
      if (!killing || d !== daemon) problems.push(`crikitd exited by itself (${codeOrNull}): ${d.stderr().split('\n').filter(l => /"level":(50|60)/.test(l)).slice(-5).join('\n')}`);
    });
    daemon = d;
  };
  process.setMaxListeners(0); // startCrikitd hooks process exit once per start
  const driver = new KubeletDriver({
    client: () => daemon!.client, image: env.busybox, logRoot: path.join(env.dirs.dir, 'logs'), cgroupParent: `/${cgroupParent}`,
    namespace: `chaos-${o.seed}`, stepDeadlineMs: 120_000, log: o.log,
  });
  const faults: InjectedFault[] = [];
  try {
    await launch();
    // Two pods that live through the whole run: every fault must leave them READY and listed.
    const anchors = [await driver.lifecycle('anchor-0', true), await driver.lifecycle('anchor-1', true)];
    let next = 0;
    let finished = 0;
    const worker = async (): Promise<void> => {
      while (next < o.lifecycles && problems.length === 0) {
        const i = next++;
        try {
          await driver.lifecycle(`churn-${i}`);
        } catch (err) {
          problems.push(`lifecycle churn-${i}: ${err instanceof ChaosViolation ? 'VIOLATION ' : ''}${(err as Error).message}`);
        }
        if (++finished % 10 === 0) o.log(`${finished}/${o.lifecycles} lifecycles, ${faults.length} faults so far`);
      }
    };
    const injector = injectFaults({
      rng, driver, network: env.network, registry: env.registry, containerdStateDir, log: o.log,
      restartCrikitd: async pauseMs => {
        killing = true;
        daemon!.proc.kill('SIGKILL');
        await daemon!.exited;
        daemon!.client.close();
        await new Promise(r => setTimeout(r, pauseMs));
        await launch();
        killing = false;
      },
    }, () => finished >= o.lifecycles || problems.length > 0, o.faultGapMs, faults, o.faults).catch(err => { problems.push(`fault injection: ${(err as Error).message}`); });
    await Promise.all(Array.from({ length: o.concurrency }, worker));
    await injector;
    fs.rmSync(env.network.failFile, { force: true });
    // After a failure the rest only cleans up: a runtime that cannot answer should not hold the run for long.
    if (problems.length > 0) driver.deadlineMs = 15_000;
    await driver.verifyLive('at the end of the churn').catch(err => problems.push((err as Error).message));
    for (const id of anchors) if (!driver.live.has(id)) problems.push(`anchor pod ${id} is no longer live`);
    const unknown = await driver.removeEverything();
    if (unknown > 0) o.log(`${unknown} pods crikit listed at the end were not the driver's (replies lost to faults); removed`);
    problems.push(...await checkEmpty(driver, containerdStateDir, env.network.allocatedIps(), path.join(env.config.paths.stateDir, 'netns'), cgroupParent));
  } catch (err) {
    problems.push(`${err instanceof ChaosViolation ? 'VIOLATION ' : ''}${(err as Error).stack ?? err}`);
  } finally {
    killing = true;
    await stopDaemonAndPods(daemon);
    removeCgroupParent(cgroupParent);
    await env.cleanup().catch((err: Error) => problems.push(`leak checker: ${err.message}`));
  }
  let logDir: string | undefined;
  if (problems.length > 0) {
    // Every crikitd's debug log, for the report: the run's dirs are gone by now.
    logDir = fs.mkdtempSync(path.join(os.tmpdir(), `crikit-chaos-${o.seed}-`));
    for (const [i, d] of daemons.entries()) fs.writeFileSync(path.join(logDir, `crikitd-${i}.log`), d.stderr());
  }
  const byKind = Object.fromEntries(faultKinds.map(k => [k, faults.filter(f => f.kind === k).length]));
  return { seed: o.seed, seconds: Math.round((Date.now() - started) / 1000), stats: driver.stats, faults: byKind, crikitdStarts: starts, problems, ...(logDir ? { logDir } : {}) };
}

/** After the driver removed everything: nothing listed, nothing in containerd, no netns, IP or cgroup left. */
async function checkEmpty(driver: KubeletDriver, containerdStateDir: string, ips: string[], netnsDir: string, cgroupParent: string): Promise<string[]> {
  const out: string[] = [];
  const pods = await driver.retry('ListPodSandbox', c => c.runtime.listPodSandbox({}));
  const containers = await driver.retry('ListContainers', c => c.runtime.listContainers({}));
  out.push(...pods.items.map(p => `pod ${p.id} still listed`), ...containers.containers.map(c => `container ${c.id} still listed`));
  out.push(...(await containerdLeftovers(containerdStateDir)).map(l => `leak: ${l}`));
  out.push(...ips.map(ip => `leak: host-local IP ${ip}`));
  out.push(...(fs.existsSync(netnsDir) ? fs.readdirSync(netnsDir) : []).map(n => `leak: netns pin ${n}`));
  out.push(...cgroupLeftovers(cgroupParent).map(l => `leak: ${l}`));
  return out;
}
