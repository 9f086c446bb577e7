import { inject, injectable } from 'inversify';
import { Logger, throwIfAborted } from '@crikit/core';
import type { CniNetworkList } from './cni-config-dir.js';
import { CniErrorCode, CniPluginError, type CniCommand } from './cni-plugin-error.js';
import { CniPluginExec } from './cni-plugin-exec.js';

/** A network as the plugins see it: what a conflist says (from the conf dir or the result cache). */
export type CniNetworkSpec = Pick<CniNetworkList, 'name' | 'cniVersion' | 'plugins'> & {
  /** The whole conflist, for list-level keys such as `disableCheck` and `disableGC`. */
  readonly raw?: Readonly<Record<string, unknown>> | undefined;
};

/** One attachment of a container to a network, and the runtime's arguments for it. */
export interface CniAttachment {
  readonly containerId: string;
  readonly ifName: string;
  /** CNI_NETNS; '' on DEL when the namespace is already gone. */
  readonly netns: string;
  /** CNI_ARGS (`IgnoreUnknown=1;K8S_POD_NAME=…`). */
  readonly args: string;
  /** Capability args offered to the plugins; each plugin gets, as `runtimeConfig`, only those it declares in `capabilities`. */
  readonly capabilityArgs: Readonly<Record<string, unknown>>;
  /** What crikit is doing, prefixed to error messages (`attach pod "web/default" to cni network "crikit"`). */
  readonly doing: string;
}

/** An attachment GC must keep (spec 1.1 `cni.dev/valid-attachments`). */
export interface CniValidAttachment {
  readonly containerID: string;
  readonly ifname: string;
}

/**
 * The network-list operations of the CNI spec (1.1, "Execution of network configurations"), as
 * libcni runs them: ADD in order chaining `prevResult`, DEL in reverse with the cached result,
 * CHECK in order with the cached result (cniVersion ≥ 0.4.0), STATUS and GC (cniVersion ≥ 1.1.0).
 */
@injectable()
export class CniNetwork {
  constructor(@inject(CniPluginExec) private readonly exec: CniPluginExec, @inject(Logger) private readonly log: Logger) {}

  /**
   * Runs ADD through every plugin, each getting the previous one's result, and returns the last result.
   * Does not undo a partial ADD: the caller runs DEL (the spec asks runtimes to).
   * @throws CniPluginError, UnavailableError, DeadlineExceededError, CancelledError (see CniPluginExec.exec)
   */
  async add(net: CniNetworkSpec, att: CniAttachment, signal: AbortSignal): Promise<unknown> {
    let prevResult: unknown;
    for (const plugin of net.plugins) {
      throwIfAborted(signal, att.doing);
      const result = await this.run('ADD', net, plugin, att, prevResult, signal);
      if (result === undefined) {
        throw new CniPluginError(att.doing, { plugin: String(plugin.type), command: 'ADD', code: 0, msg: 'printed no result', details: '' });
      }
      prevResult = result;
    }
    return prevResult;
  }

  /**
   * Runs DEL through the plugins in reverse order, each getting `cachedResult` as `prevResult`
   * (cniVersion ≥ 0.4.0). Idempotent: a plugin answering "not found" (code 3, or a message saying
   * so) is taken as having nothing to delete.
   * @throws CniPluginError, UnavailableError, DeadlineExceededError, CancelledError; the first failure stops the walk, as in libcni
   */
  async del(net: CniNetworkSpec, att: CniAttachment, cachedResult: unknown, signal: AbortSignal): Promise<void> {
    const prevResult = atLeast(net.cniVersion, '0.4.0') ? cachedResult : undefined;
    for (const plugin of [...net.plugins].reverse()) {
      throwIfAborted(signal, att.doing);
      try {
        await this.run('DEL', net, plugin, att, prevResult, signal);
      } catch (err) {
        if (!isAlreadyGone(err)) throw err;
        this.log.debug({ plugin: plugin.type, containerId: att.containerId, err }, 'cni DEL found nothing to delete');
      }
    }
  }

  /**
   * Runs CHECK through the plugins in order with `cachedResult` as `prevResult`. Returns false
   * without running anything when the network cannot be checked (cniVersion < 0.4.0 or `disableCheck`).
   * @throws CniPluginError when a plugin finds the attachment broken; UnavailableError, DeadlineExceededError, CancelledError
   */
  async check(net: CniNetworkSpec, att: CniAttachment, cachedResult: unknown, signal: AbortSignal): Promise<boolean> {
    if (!atLeast(net.cniVersion, '0.4.0') || net.raw?.disableCheck === true) return false;
    for (const plugin of net.plugins) {
      throwIfAborted(signal, att.doing);
      await this.run('CHECK', net, plugin, att, cachedResult, signal);
    }
    return true;
  }

  /**
   * Asks every plugin whether it is ready to ADD (STATUS). Returns false without running anything
   * when the network's cniVersion is below 1.1.0 (its plugins do not know STATUS).
   * @throws UnavailableError when a plugin is not ready (codes 50, 51, 11); CniPluginError for other failures
   */
  async status(net: CniNetworkSpec, doing: string, signal: AbortSignal): Promise<boolean> {
    if (!atLeast(net.cniVersion, '1.1.0')) return false;
    for (const plugin of net.plugins) {
      throwIfAborted(signal, doing);
      await this.exec.exec({ command: 'STATUS', config: pluginConfig(net, plugin, undefined, {}), doing }, signal);
    }
    return true;
  }

  /**
   * Asks every plugin to release what it holds for attachments other than `valid` (GC). Every
   * plugin runs even when one fails. Returns false without running anything when cniVersion is
   * below 1.1.0 or the list says `disableGC`.
   * @throws the first plugin failure, after all plugins ran
   */
  async gc(net: CniNetworkSpec, valid: readonly CniValidAttachment[], doing: string, signal: AbortSignal): Promise<boolean> {
    if (!atLeast(net.cniVersion, '1.1.0') || net.raw?.disableGC === true) return false;
    const failures: unknown[] = [];
    for (const plugin of net.plugins) {
      throwIfAborted(signal, doing);
      const config = { ...pluginConfig(net, plugin, undefined, {}), 'cni.dev/valid-attachments': valid };
      try {
        await this.exec.exec({ command: 'GC', config, doing }, signal);
      } catch (err) {
        this.log.warn({ plugin: plugin.type, network: net.name, err }, 'cni GC failed');
        failures.push(err);
      }
    }
    if (failures.length > 0) throw failures[0];
    return true;
  }

  private run(
    command: CniCommand, net: CniNetworkSpec, plugin: Readonly<Record<string, unknown>>, att: CniAttachment, prevResult: unknown, signal: AbortSignal,
  ): Promise<unknown> {
    return this.exec.exec({
      command,
      config: pluginConfig(net, plugin, prevResult, att.capabilityArgs),
      containerId: att.containerId,
      netns: att.netns,
      ifName: att.ifName,
      args: att.args,
      doing: att.doing,
    }, signal);
  }
}

/**
 * The stdin of one plugin in a list (libcni's buildOneConfig): its own keys plus the list's `name`
 * and `cniVersion`, `prevResult` when given, and `runtimeConfig` holding only the capability args
 * the plugin declares in `capabilities`.
 */
function pluginConfig(
  net: CniNetworkSpec, plugin: Readonly<Record<string, unknown>>, prevResult: unknown, capabilityArgs: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const config: Record<string, unknown> = { ...plugin, name: net.name, cniVersion: net.cniVersion };
  if (prevResult !== undefined) config.prevResult = prevResult;
  const declared = plugin.capabilities;
  if (typeof declared === 'object' && declared !== null) {
    const runtimeConfig: Record<string, unknown> = {};
    for (const [capability, supported] of Object.entries(declared)) {
      if (supported === true && capabilityArgs[capability] !== undefined) runtimeConfig[capability] = capabilityArgs[capability];
    }
    // As libcni: the runtime's values replace any `runtimeConfig` in the file, and only when there are some.
    if (Object.keys(runtimeConfig).length > 0) config.runtimeConfig = runtimeConfig;
  }
  return config;
}

/** DEL must succeed when the thing to delete is already gone (spec: "plugins should generally complete a DEL without error"). */
function isAlreadyGone(err: unknown): boolean {
  if (!(err instanceof CniPluginError)) return false;
  if (err.code === CniErrorCode.containerUnknown) return true;
  // Older plugins report a missing resource only in words; there is no code to go by.
  return /\b(not found|does not exist|no such (file|device|process|container))\b/i.test(`${err.msg} ${err.details}`);
}

/** True when CNI version `v` is at least `min`; an unparsable version counts as 0.1.0 (libcni's default). */
function atLeast(v: string, min: string): boolean {
  const parse = (s: string): number[] => {
    const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(s.trim());
    return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 1, 0];
  };
  const a = parse(v);
  const b = parse(min);
  for (let i = 0; i < 3; i++) {
    if (a[i]! !== b[i]!) return a[i]! > b[i]!;
  }
  return true;
}
