import { setTimeout as sleep } from 'node:timers/promises';
import { inject, injectable } from 'inversify';
import { ContainerdClient } from '../contracts/containerd-client.js';
import { StartOrder, type Startable } from '../contracts/startable.js';
import { Logger } from '../logger.js';
import { Backoff } from '../util/backoff.js';
import { GuardedEmitter } from '../util/guarded-emitter.js';
import type { Subscribable } from '../util/subscribable.js';
import { decodeTaskEvent, taskEventTopics, type TaskEvents } from './task-events.js';

/**
 * The one place containerd's event stream is read: task exits and OOM kills in the
 * runtime's namespace, decoded and emitted as typed events. The subscription is made before
 * recovery runs, so no exit falls between recovery's scan and the first event; a broken stream is
 * resubscribed with backoff.
 */
@injectable()
export class ContainerdEventMonitor implements Startable {
  readonly startName = 'containerd event monitor';
  readonly startOrder = StartOrder.events;
  private readonly emitter: GuardedEmitter<TaskEvents>;
  /** Where listeners subscribe (on/once/off only). Listeners must not throw or be async. */
  readonly events: Subscribable<TaskEvents>;
  private stopping = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(@inject(ContainerdClient) private readonly containerd: ContainerdClient, @inject(Logger) private readonly log: Logger) {
    this.emitter = new GuardedEmitter<TaskEvents>((err, event) => this.log.error({ err, event: String(event) }, 'task event listener threw'));
    this.events = this.emitter;
  }

  /** Subscribes; resolves once the first subscription is made. */
  async start(): Promise<void> {
    this.stopping = new AbortController();
    let subscribed!: () => void;
    const ready = new Promise<void>(resolve => { subscribed = resolve; });
    this.loop = this.run(subscribed);
    await Promise.race([ready, this.loop]);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    this.loop = undefined;
  }

  private async run(subscribed: () => void): Promise<void> {
    const signal = this.stopping.signal;
    // containerd filter values holding "/" must be quoted.
    const filters = [`namespace==${this.containerd.namespace},topic=="${taskEventTopics.exit}"`, `namespace==${this.containerd.namespace},topic=="${taskEventTopics.oom}"`];
    const backoff = new Backoff({ initialMs: 100, maxMs: 5_000 });
    while (!signal.aborted) {
      let failure: unknown;
      try {
        const stream = this.containerd.events.subscribe({ filters }, { signal });
        subscribed();
        for await (const envelope of stream) {
          backoff.reset();
          const e = decodeTaskEvent(envelope);
          if (e?.kind === 'exit') this.emitter.emit('task:exited', e.exit);
          else if (e?.kind === 'oom') this.emitter.emit('task:oom-killed', e.containerId);
        }
      } catch (err) {
        if (signal.aborted) return;
        failure = err;
      }
      const retryMs = backoff.next();
      if (failure !== undefined) this.log.warn({ err: failure, retryMs }, 'containerd event stream broke; resubscribing');
      // Stopping ends the wait at once, rather than after up to the longest delay.
      await sleep(retryMs, undefined, { signal }).catch(() => undefined);
    }
  }
}
