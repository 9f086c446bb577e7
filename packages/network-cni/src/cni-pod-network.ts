import { isIP } from 'node:net';
import { inject, injectable } from 'inversify';
import {
  FailedPreconditionError, InvalidArgumentError, Logger, NetworkNamespaces, settleAll, throwIfAborted, UnavailableError,
  type NetworkCondition, type PodNetwork, type PodNetworkEvents, type PodNetworkResult, type PodRef, type SandboxId, type Subscribable,
} from '@crikit/core';
import { CniConfTemplateWriter } from './cni-conf-template-writer.js';
import type { CniNetworkList } from './cni-config-dir.js';
import { CniConfigWatcher } from './cni-config-watcher.js';
import { CniNetwork, type CniAttachment, type CniNetworkSpec } from './cni-network.js';
import { toPodNetworkResult } from './cni-pod-result.js';
import { CniResultCache, type CachedAttachment } from './cni-result-cache.js';
import { NetworkCniConfig } from './network-cni-config.js';
import { podCniArgs } from './pod-cni-args.js';

/** The pod's interface, as containerd names it. */
const podIfName = 'eth0';

/**
 * The pod network backed by CNI plugins on the default network (the first valid config in the
 * conf dir). Every ADD's config and result go to the result cache, so `detach` and `check` work
 * with what `attach` did, across crikit restarts and conf dir changes. Calls for one pod run one
 * at a time.
 */
@injectable()
export class CniPodNetwork implements PodNetwork {
  private podCidrs: readonly string[] = [];
  /** The tail of each pod's queue of calls, so attach/detach/check of one pod never overlap. */
  private readonly queues = new Map<SandboxId, Promise<unknown>>();

  constructor(
    @inject(NetworkCniConfig) private readonly config: NetworkCniConfig,
    @inject(CniConfigWatcher) private readonly configs: CniConfigWatcher,
    @inject(CniNetwork) private readonly network: CniNetwork,
    @inject(CniResultCache) private readonly cache: CniResultCache,
    @inject(NetworkNamespaces) private readonly netns: NetworkNamespaces,
    @inject(CniConfTemplateWriter) private readonly template: CniConfTemplateWriter,
    @inject(Logger) private readonly log: Logger,
  ) {}

  get events(): Subscribable<PodNetworkEvents> {
    return this.configs.events;
  }

  status(): NetworkCondition {
    return this.configs.condition();
  }

  /** The pod CIDRs last set by `updatePodCidr` (empty before). */
  get podCidr(): readonly string[] {
    return this.podCidrs;
  }

  /**
   * CNI ADD of the loopback network (ifname lo, bringing `lo` up) and of the default network
   * (ifname eth0), at once, as containerd does. Idempotent: a pod with a cached eth0 attachment gets the
   * cached result. A failed ADD is undone with DEL (of both networks) before the error is thrown.
   * @throws UnavailableError while no network config is loaded, or when a plugin says "try again later" or is missing
   * @throws InvalidArgumentError for port mappings the plugins cannot take
   * @throws CniPluginError (failed precondition) when a plugin fails
   * @throws CancelledError, DeadlineExceededError when `signal` fires or a plugin times out
   */
  attach(pod: PodRef, signal: AbortSignal): Promise<PodNetworkResult> {
    return this.serialize(pod.id, async () => {
      const who = podName(pod);
      throwIfAborted(signal, `attach pod ${who}`);
      const [existing] = await this.cache.find(pod.id, podIfName);
      if (existing && existing.result !== undefined) return toPodNetworkResult(existing.result, podIfName);
      const net = this.configs.defaultNetwork;
      if (!net) throw new UnavailableError(`attach pod ${who}: cni network not ready: ${this.configs.condition().message}`);
      const { args, capabilityArgs } = podCniArgs(pod, this.podCidrs);
      const steps: { spec: CniNetworkSpec; att: CniAttachment }[] = [loopbackNetwork, specOf(net)].map(spec => ({
        spec,
        att: {
          containerId: pod.id, ifName: spec === loopbackNetwork ? 'lo' : podIfName, netns: pod.netnsPath, args, capabilityArgs,
          doing: `attach pod ${who} to cni network "${spec.name}"`,
        },
      }));
      // Loopback and the default network are independent (lo and eth0), so their ADDs run at once;
      // containerd's go-cni also attaches every network in its own goroutine.
      const results = await Promise.allSettled(steps.map(async ({ spec, att }) => {
        const entry = {
          network: { name: spec.name, cniVersion: spec.cniVersion, plugins: [...spec.plugins], raw: spec.raw && { ...spec.raw } },
          containerId: pod.id, ifName: att.ifName, netns: pod.netnsPath, args, capabilityArgs: { ...capabilityArgs },
        };
        // The intent first (an entry without a result): a crikit killed during the ADD leaves what the
        // plugins took behind, and collectGarbage at the next start-up finds it here to DEL.
        await this.cache.put({ ...entry, result: undefined });
        const result = await this.network.add(spec, att, signal);
        await this.cache.put({ ...entry, result });
        return result;
      }));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) {
        // CNI: a runtime must DEL after a failed ADD, so plugins release what they took (IPs, rules).
        for (const [i, { spec, att }] of [...steps.entries()].reverse()) {
          const r = results[i]!;
          await this.undoAdd(spec, att, r.status === 'fulfilled' ? r.value : undefined);
        }
        throw failed.reason;
      }
      const attached = toPodNetworkResult((results.at(-1) as PromiseFulfilledResult<unknown>).value, podIfName);
      this.log.info({ pod: who, network: net.name, ips: attached.ips }, 'attached pod to cni network');
      return attached;
    });
  }

  /**
   * CNI DEL of every cached attachment of the pod (eth0 and lo, at once), each with the config and result
   * of its ADD; without a cached eth0 attachment, DEL on the current default network. A netns that
   * is gone is fine. Idempotent: a pod never attached (and no network loaded) resolves.
   * @throws UnavailableError, CniPluginError when a plugin fails (the cache entry stays for the next try)
   */
  detach(pod: PodRef, signal: AbortSignal): Promise<void> {
    return this.serialize(pod.id, async () => {
      const who = podName(pod);
      throwIfAborted(signal, `detach pod ${who}`);
      // Plugins cannot enter a namespace that is gone; an empty CNI_NETNS tells them to clean up outside it.
      const netns = pod.netnsPath !== '' && await this.netns.exists(pod.netnsPath) ? pod.netnsPath : '';
      // eth0 and lo are independent; their DELs run at once. The first failure is thrown once both
      // are done, and its cache entry stays for the next try.
      await settleAll([podIfName, 'lo'].map(async ifName => {
        const entries = await this.cache.find(pod.id, ifName);
        const net = this.configs.defaultNetwork;
        if (entries.length === 0 && ifName === podIfName && net) {
          // Maybe attached before the cache was written (a crash): DEL is harmless if not. Capability
          // args the pod never could have been attached with (a bad port mapping) must not block it.
          const { args, capabilityArgs } = podCniArgsOrBare(pod, this.podCidrs);
          const doing = `detach pod ${who} from cni network "${net.name}"`;
          await this.network.del(net, { containerId: pod.id, ifName, netns, args, capabilityArgs, doing }, undefined, signal);
        }
        for (const entry of entries.reverse()) {
          await this.network.del(specOf(entry), attachmentOf(entry, netns, `detach pod ${who} from cni network "${entry.network.name}"`), entry.result, signal);
          await this.cache.delete(entry.network.name, pod.id, ifName);
          this.log.info({ pod: who, network: entry.network.name, ifName }, 'detached pod from cni network');
        }
      }));
    });
  }

  /**
   * CNI CHECK with the config and result of the pod's ADD. Networks whose cniVersion is below
   * 0.4.0 (or that say `disableCheck`) cannot be checked and pass.
   * @throws UnavailableError while no network config is loaded
   * @throws FailedPreconditionError when the pod is not attached, its netns is gone, or a plugin finds it broken
   */
  check(pod: PodRef, signal: AbortSignal): Promise<void> {
    return this.serialize(pod.id, async () => {
      const who = podName(pod);
      throwIfAborted(signal, `check pod ${who}`);
      const net = this.configs.defaultNetwork;
      if (!net) throw new UnavailableError(`check pod ${who}: cni network not ready: ${this.configs.condition().message}`);
      const [entry] = await this.cache.find(pod.id, podIfName);
      if (entry?.result === undefined) throw new FailedPreconditionError(`check pod ${who} on cni network "${net.name}": pod is not attached`);
      const doing = `check pod ${who} on cni network "${entry.network.name}"`;
      if (!await this.netns.exists(pod.netnsPath)) throw new FailedPreconditionError(`${doing}: netns ${pod.netnsPath} is gone`);
      await this.network.check(specOf(entry), attachmentOf(entry, pod.netnsPath, doing), entry.result, signal);
    });
  }

  /**
   * Sets the node's pod CIDRs (comma-separated for dual stack), offered to plugins as `ipRanges`,
   * and renders `confTemplate` with them when one is configured. Idempotent.
   * @throws InvalidArgumentError when `cidr` is not a CIDR (or a comma-separated list of them)
   * @throws FailedPreconditionError when the template cannot be read or rendered; UnavailableError when the conflist cannot be written
   */
  async updatePodCidr(cidr: string, signal: AbortSignal): Promise<void> {
    throwIfAborted(signal, 'update pod cidr');
    const cidrs = cidr.split(',').map(c => c.trim());
    if (cidrs.some(c => !isCidr(c))) throw new InvalidArgumentError(`update pod cidr: "${cidr}" is not a cidr`);
    this.podCidrs = cidrs;
    if (this.config.confTemplate !== '') await this.template.write(cidrs, signal);
  }

  /**
   * CNI garbage collection: DEL of every cached attachment whose pod is not in `keep` (with its ADD's
   * result, or none when only the intent was recorded), then GC on the default network (cniVersion ≥
   * 1.1.0) with the attachments that remain, as libcni's GCNetworkList.
   * @throws the first failure, after every stale attachment was tried
   */
  async collectGarbage(keep: readonly SandboxId[], signal: AbortSignal): Promise<void> {
    const valid = new Set<string>(keep);
    const failures: unknown[] = [];
    // Newest first, so a pod's eth0 goes before its lo, as in detach.
    for (const entry of (await this.cache.list()).reverse()) {
      if (valid.has(entry.containerId)) continue;
      await this.serialize(entry.containerId as SandboxId, async () => {
        const netns = await this.netns.exists(entry.netns) ? entry.netns : '';
        await this.network.del(specOf(entry), attachmentOf(entry, netns, `collect cni attachment ${entry.containerId} on cni network "${entry.network.name}"`), entry.result, signal);
        await this.cache.delete(entry.network.name, entry.containerId, entry.ifName);
      }).catch(err => failures.push(err));
    }
    const net = this.configs.defaultNetwork;
    if (net) {
      const remaining = (await this.cache.list()).filter(e => e.network.name === net.name).map(e => ({ containerID: e.containerId, ifname: e.ifName }));
      await this.network.gc(net, remaining, `collect garbage on cni network "${net.name}"`, signal).catch(err => failures.push(err));
    }
    if (failures.length > 0) throw failures[0];
  }

  private async undoAdd(spec: CniNetworkSpec, att: CniAttachment, result: unknown): Promise<void> {
    // A fresh deadline: the caller's signal may be what failed the ADD.
    const signal = AbortSignal.timeout(this.config.pluginTimeoutMs * Math.max(1, spec.plugins.length));
    try {
      await this.network.del(spec, { ...att, doing: `undo ${att.doing}` }, result, signal);
      await this.cache.delete(spec.name, att.containerId, att.ifName);
    } catch (err) {
      this.log.warn({ containerId: att.containerId, network: spec.name, err }, 'cni DEL after a failed ADD failed');
    }
  }

  /** Runs `fn` after every earlier call for `id` settled. */
  private serialize<T>(id: SandboxId, fn: () => Promise<T>): Promise<T> {
    const before = this.queues.get(id) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const tail = run.catch(() => {});
    this.queues.set(id, tail);
    void tail.then(() => {
      if (this.queues.get(id) === tail) this.queues.delete(id);
    });
    return run;
  }
}

function podCniArgsOrBare(pod: PodRef, podCidrs: readonly string[]): ReturnType<typeof podCniArgs> {
  try {
    return podCniArgs(pod, podCidrs);
  } catch {
    return podCniArgs({ ...pod, portMappings: [] }, podCidrs);
  }
}

function podName(pod: PodRef): string {
  return `"${pod.name}/${pod.namespace}"`;
}

/** containerd's built-in loopback network, attached with ifname lo before the default network. */
const loopbackNetwork: CniNetworkSpec = { name: 'cni-loopback', cniVersion: '0.3.1', plugins: [{ type: 'loopback' }] };

function specOf(source: CachedAttachment | CniNetworkList): CniNetworkSpec {
  const n = 'network' in source ? source.network : source;
  return { name: n.name, cniVersion: n.cniVersion, plugins: n.plugins, raw: n.raw };
}

function attachmentOf(entry: CachedAttachment, netns: string, doing: string): CniAttachment {
  return { containerId: entry.containerId, ifName: entry.ifName, netns, args: entry.args, capabilityArgs: entry.capabilityArgs, doing };
}

function isCidr(s: string): boolean {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  if (!m) return false;
  const family = isIP(m[1]!);
  return family !== 0 && Number(m[2]) <= (family === 4 ? 32 : 128);
}
