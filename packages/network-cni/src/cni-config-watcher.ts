import fs from 'node:fs';
import { inject, injectable } from 'inversify';
import { GuardedEmitter, Logger, StartOrder, type NetworkCondition, type PodNetworkEvents, type Startable, type Subscribable } from '@crikit/core';
import { scanCniConfigDir, type CniConfigScan, type CniNetworkList } from './cni-config-dir.js';
import { NetworkCniConfig } from './network-cni-config.js';

/**
 * Keeps the CNI conf dir loaded: scans at start, then again whenever the directory changes
 * (or, while it does not exist, every few seconds), so NetworkReady follows the files.
 */
@injectable()
export class CniConfigWatcher implements Startable {
  readonly startName = 'cni config watcher';
  readonly startOrder = StartOrder.network;
  private scan: CniConfigScan = { networks: [], problems: ['not loaded yet'] };
  private watcher: fs.FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private rescanning: Promise<void> | undefined;
  private rescanAgain = false;
  private readonly emitter: GuardedEmitter<PodNetworkEvents>;
  /** Hears `network:status-changed` whenever the condition changes. */
  readonly events: Subscribable<PodNetworkEvents>;

  constructor(@inject(NetworkCniConfig) private readonly config: NetworkCniConfig, @inject(Logger) private readonly log: Logger) {
    this.emitter = new GuardedEmitter<PodNetworkEvents>(err => this.log.error({ err }, 'network status listener threw'));
    this.events = this.emitter;
  }

  /** The default network (the first valid config), if any. */
  get defaultNetwork(): CniNetworkList | undefined {
    return this.scan.networks[0];
  }

  /** The loaded networks, default first. */
  get networks(): readonly CniNetworkList[] {
    return this.scan.networks;
  }

  /** Ready once a valid network config is loaded. */
  condition(): NetworkCondition {
    if (this.scan.networks.length > 0) return { ready: true, reason: '', message: '' };
    const why = this.scan.problems.length > 0 ? `: ${this.scan.problems.join('; ')}` : '';
    return { ready: false, reason: 'NetworkPluginNotReady', message: `cni config not found in ${this.config.confDir}${why}` };
  }

  async start(): Promise<void> {
    await this.rescan();
    this.watch();
  }

  async stop(): Promise<void> {
    this.watcher?.close();
    this.watcher = undefined;
    clearInterval(this.poll);
    this.poll = undefined;
  }

  /** Reads the conf dir again now; concurrent calls collapse into one more scan. */
  async rescan(): Promise<void> {
    if (this.rescanning) {
      this.rescanAgain = true;
      return this.rescanning;
    }
    this.rescanning = (async () => {
      do {
        this.rescanAgain = false;
        const before = this.condition();
        this.scan = await scanCniConfigDir(this.config.confDir, this.config.maxConfNum);
        const after = this.condition();
        if (after.ready !== before.ready || after.message !== before.message) {
          this.log.info({ network: this.defaultNetwork?.name, file: this.defaultNetwork?.file, problems: this.scan.problems }, 'cni network condition changed');
          this.emitter.emit('network:status-changed', after);
        }
      } while (this.rescanAgain);
    })().finally(() => { this.rescanning = undefined; });
    return this.rescanning;
  }

  private watch(): void {
    try {
      this.watcher = fs.watch(this.config.confDir, () => void this.rescan().catch(err => this.log.warn({ err }, 'rescan cni config dir')));
      this.watcher.on('error', () => this.fallBackToPolling());
      clearInterval(this.poll);
      this.poll = undefined;
    } catch {
      this.fallBackToPolling();
    }
  }

  // The dir may not exist yet (a CNI daemonset writes it later): poll until it does, then watch.
  private fallBackToPolling(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.poll) return;
    this.poll = setInterval(() => {
      if (!fs.existsSync(this.config.confDir)) return;
      void this.rescan().catch(err => this.log.warn({ err }, 'rescan cni config dir'));
      this.watch();
    }, 2_000);
    this.poll.unref();
  }
}
