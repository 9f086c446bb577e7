import { randomBytes } from 'node:crypto';
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
 * resubscribed with backoff, and 'stream:subscribed' tells listeners to look for exits it missed.
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
    const ns = this.containerd.namespace;
    // containerd filter values holding "/" must be quoted.
    const filters = [taskEventTopics.exit, taskEventTopics.oom, taskEventTopics.marker].map(t => `namespace==${ns},topic=="${t}"`);
    const backoff = new Backoff({ initialMs: 100, maxMs: 5_000 });
    while (!signal.aborted) {
      let failure: unknown;
      const subscription = new AbortController();
      let seen: (() => void) | undefined;
      const markerSeen = new Promise<void>(resolve => { seen = resolve; });
      try {
        const stream = this.containerd.events.subscribe({ filters }, { signal });
        subscribed();
        const nonce = randomBytes(16);
        void this.publishMarker(nonce, markerSeen, subscription.signal);
        for await (const envelope of stream) {
          backoff.reset();
          if (envelope.topic === taskEventTopics.marker) {
            // Once per subscription, though a marker published twice may come back twice.
            if (seen && Buffer.from(envelope.event?.value ?? []).equals(nonce)) {
              seen();
              seen = undefined;
              this.emitter.emit('stream:subscribed');
            }
            continue;
          }
          const e = decodeTaskEvent(envelope);
          if (e?.kind === 'exit') this.emitter.emit('task:exited', e.exit);
          else if (e?.kind === 'oom') this.emitter.emit('task:oom-killed', e.containerId);
        }
      } catch (err) {
        if (signal.aborted) return;
        failure = err;
      } finally {
        subscription.abort();
      }
      const retryMs = backoff.next();
      if (failure !== undefined) this.log.warn({ err: failure, retryMs }, 'containerd event stream broke; resubscribing');
      // Stopping ends the wait at once, rather than after up to the longest delay.
      await sleep(retryMs, undefined, { signal }).catch(() => undefined);
    }
  }

  /**
   * containerd answers a subscription only with events, so the stream cannot tell when it is live.
   * The monitor publishes a marker carrying `nonce` to itself: once the marker comes back, every later
   * event will too, and listeners of 'stream:subscribed' can list the tasks without a gap. containerd may
   * take the marker before the subscription, so it is published again until it is seen or the stream ends.
   */
  private async publishMarker(nonce: Buffer, seen: Promise<void>, signal: AbortSignal): Promise<void> {
    const again = new Backoff({ initialMs: 250, maxMs: 5_000 });
    let arrived = false;
    void seen.then(() => { arrived = true; });
    while (!arrived && !signal.aborted) {
      try {
        await this.containerd.events.publish({ topic: taskEventTopics.marker, event: { typeUrl: markerType, value: nonce } }, { signal });
      } catch (err) {
        // When containerd is gone the stream breaks too, and the next subscription publishes again.
        if (!signal.aborted) this.log.debug({ err }, 'publish event stream marker');
      }
      await Promise.race([seen, sleep(again.next(), undefined, { signal }).catch(() => undefined)]);
    }
  }
}

/** The type URL of the marker's payload (a random nonce; containerd does not decode it). */
const markerType = 'crikit.events.Subscribed';
