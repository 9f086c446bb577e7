import { inject, injectable } from 'inversify';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  ContainerStore, RuntimeEventBus, SandboxStore, type ImagePullProgress, type RpcObserver, type RuntimeObserver,
} from '@crikit/core';
import { MetricsConfig } from './metrics-config.js';

/** Latency buckets (seconds) from 1 ms to 2 min: stats calls sit at the bottom, pulls at the top. */
const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** CNI plugins run from milliseconds (loopback) to seconds (bridge with iptables on a busy node). */
const cniBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * crikit's own Prometheus metrics (not the pods'): per-RPC latency and outcome, image pulls,
 * sandboxes and containers by state, CNI plugin runs, containerd reconnects. Records only while the
 * endpoint is configured (`metrics.address`). It is the server's RpcObserver and core's RuntimeObserver.
 */
@injectable()
export class RuntimeMetrics implements RpcObserver, RuntimeObserver {
  /** The registry the endpoint serves; prom-client's default process metrics are added on `enable`. */
  readonly registry = new Registry();
  private readonly rpcDuration: Histogram<'rpc'>;
  private readonly rpcTotal: Counter<'rpc' | 'code'>;
  private readonly pullBytes: Counter;
  private readonly pullDuration: Histogram;
  private readonly cniDuration: Histogram<'plugin' | 'command'>;
  private readonly cniErrors: Counter<'plugin' | 'command'>;
  private readonly reconnects: Counter;
  private readonly layerBytes = new Map<string, number>();
  private readonly onProgress = (p: ImagePullProgress): void => this.countPullBytes(p);
  private readonly enabled: boolean;

  constructor(
    @inject(MetricsConfig) config: MetricsConfig,
    @inject(SandboxStore) sandboxes: SandboxStore,
    @inject(ContainerStore) containers: ContainerStore,
    @inject(RuntimeEventBus) private readonly bus: RuntimeEventBus,
  ) {
    this.enabled = config.address !== '';
    const registers = [this.registry];
    this.rpcDuration = new Histogram({ name: 'crikit_grpc_request_duration_seconds', help: 'How long each CRI call took, by RPC.', labelNames: ['rpc'], buckets: latencyBuckets, registers });
    this.rpcTotal = new Counter({ name: 'crikit_grpc_requests_total', help: 'CRI calls answered, by RPC and gRPC status code (errors are the codes other than OK).', labelNames: ['rpc', 'code'], registers });
    this.pullBytes = new Counter({ name: 'crikit_image_pull_bytes_total', help: 'Bytes of image layers and configs downloaded by pulls.', registers });
    this.pullDuration = new Histogram({ name: 'crikit_image_pull_duration_seconds', help: 'How long successful PullImage calls took.', buckets: latencyBuckets, registers });
    this.cniDuration = new Histogram({ name: 'crikit_cni_plugin_duration_seconds', help: 'How long CNI plugin runs took, by plugin and command.', labelNames: ['plugin', 'command'], buckets: cniBuckets, registers });
    this.cniErrors = new Counter({ name: 'crikit_cni_plugin_errors_total', help: 'CNI plugin runs that failed, timed out or were killed, by plugin and command.', labelNames: ['plugin', 'command'], registers });
    this.reconnects = new Counter({ name: 'crikit_containerd_reconnects_total', help: 'Times the connection to containerd was ready again after having been lost.', registers });
    new Gauge({
      name: 'crikit_sandboxes', help: 'Pod sandboxes crikit holds, by state.', labelNames: ['state'], registers,
      collect() { countBy(this, sandboxes.list().map(s => s.status.state), ['ready', 'notready', 'unknown']); },
    });
    new Gauge({
      name: 'crikit_containers', help: 'Containers crikit holds, by state.', labelNames: ['state'], registers,
      collect() { countBy(this, containers.list().map(c => c.status.state), ['created', 'running', 'exited', 'unknown']); },
    });
  }

  /** Starts counting pull bytes (subscribes to the runtime bus). Idempotent. */
  start(): void {
    if (!this.enabled) return;
    this.bus.events.off('image:pull-progressed', this.onProgress);
    this.bus.events.on('image:pull-progressed', this.onProgress);
  }

  /** Stops counting. Idempotent. */
  stop(): void {
    this.bus.events.off('image:pull-progressed', this.onProgress);
    this.layerBytes.clear();
  }

  rpcFinished(rpc: string, seconds: number, code: string): void {
    if (!this.enabled) return;
    const method = rpc.slice(rpc.lastIndexOf('/') + 1);
    this.rpcDuration.observe({ rpc: method }, seconds);
    this.rpcTotal.inc({ rpc: method, code });
    if (method === 'PullImage' && code === 'OK') this.pullDuration.observe(seconds);
  }

  cniPluginFinished(plugin: string, command: string, seconds: number, outcome: 'ok' | 'error'): void {
    if (!this.enabled) return;
    this.cniDuration.observe({ plugin, command }, seconds);
    if (outcome === 'error') this.cniErrors.inc({ plugin, command });
  }

  containerdReconnected(): void {
    if (this.enabled) this.reconnects.inc();
  }

  // Progress events carry a layer's running total; count what is new since its last event.
  private countPullBytes(p: ImagePullProgress): void {
    const key = `${p.ref}\u0000${p.layerDigest}`;
    const before = this.layerBytes.get(key) ?? 0;
    if (p.bytesDone > before) this.pullBytes.inc(p.bytesDone - before);
    if (p.bytesDone >= p.bytesTotal) this.layerBytes.delete(key);
    else this.layerBytes.set(key, p.bytesDone);
  }
}

function countBy(gauge: Gauge<'state'>, states: readonly string[], known: readonly string[]): void {
  const counts = new Map<string, number>(known.map(s => [s, 0]));
  for (const s of states) counts.set(s, (counts.get(s) ?? 0) + 1);
  for (const [state, n] of counts) gauge.set({ state }, n);
}
