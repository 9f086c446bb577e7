import http from 'node:http';
import { inject, injectable } from 'inversify';
import { collectDefaultMetrics } from 'prom-client';
import { Logger, StartOrder, UnavailableError, type Startable } from '@crikit/core';
import { MetricsConfig } from './metrics-config.js';
import { RuntimeMetrics } from './runtime-metrics.js';

/**
 * Serves crikit's own metrics (RuntimeMetrics plus prom-client's process and Node.js metrics:
 * RSS, open fds, event-loop lag, GC) as Prometheus text on `GET /metrics` at `metrics.address`.
 * Off when the address is empty.
 */
@injectable()
export class PrometheusEndpoint implements Startable {
  readonly startName = 'prometheus endpoint';
  readonly startOrder = StartOrder.services;
  private server: http.Server | undefined;
  private defaultsAdded = false;

  constructor(
    @inject(MetricsConfig) private readonly config: MetricsConfig,
    @inject(RuntimeMetrics) private readonly metrics: RuntimeMetrics,
    @inject(Logger) private readonly log: Logger,
  ) {}

  /** The address it listens on once started (the real port when the config said port 0). */
  get address(): string | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : undefined;
  }

  /** @throws UnavailableError when the address cannot be bound */
  async start(): Promise<void> {
    if (this.config.address === '' || this.server) return;
    const colon = this.config.address.lastIndexOf(':');
    const host = this.config.address.slice(0, colon).replace(/^\[|\]$/g, '') || undefined;
    const port = Number(this.config.address.slice(colon + 1));
    if (!this.defaultsAdded) {
      collectDefaultMetrics({ register: this.metrics.registry });
      this.defaultsAdded = true;
    }
    const server = http.createServer((req, res) => { void this.answer(req, res); });
    await new Promise<void>((resolve, reject) => {
      server.once('error', err => reject(new UnavailableError(`listen for metrics on ${this.config.address}`, { cause: err })));
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    this.metrics.start();
    this.log.info({ address: this.address }, 'serving Prometheus metrics');
  }

  async stop(): Promise<void> {
    this.metrics.stop();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>(resolve => server.close(() => resolve()));
  }

  private async answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics is served here\n');
      return;
    }
    try {
      const body = await this.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(body);
    } catch (err) {
      this.log.warn({ err }, 'metrics scrape failed');
      res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n');
    }
  }
}
