import { inject, injectable } from 'inversify';
import type { crikit, PartialMessage } from '@crikit/api';
import { InvalidArgumentError, ResourceExhaustedError, RuntimeEventBus, type ImagePullProgress } from '@crikit/core';
import { ImageReference } from '@crikit/image';
import type { CriHandlerGroup } from './cri-handler-group.js';
import type { CrikitImagesHandlers } from './crikit-images-service.js';
import { EventSubscriber } from './event-subscriber.js';

type Progress = PartialMessage<crikit.PullProgress>;

/**
 * Progress messages a WatchPullProgress client may fall behind by. One more and it is dropped
 * with RESOURCE_EXHAUSTED, as GetContainerEvents drops a slow client: a progress display that
 * cannot keep up is better told so than fed from an unbounded queue.
 */
export const maxQueuedPullProgress = 1_000;

/**
 * WatchPullProgress (crikit.v1.Images): the runtime bus's `image:pull-progressed` events, one
 * stream per client, for one reference or for all. The bus listener is removed the moment the
 * client cancels, falls behind, or crikit stops.
 */
@injectable()
export class PullProgressHandlers implements CriHandlerGroup {
  constructor(@inject(RuntimeEventBus) private readonly bus: RuntimeEventBus) {}

  crikitImages(): CrikitImagesHandlers {
    return { watchPullProgress: (req, signal) => this.watch(watchedRef(req.image), signal) };
  }

  private async *watch(ref: string | undefined, signal: AbortSignal): AsyncIterable<Progress> {
    const sub = new EventSubscriber<Progress>(maxQueuedPullProgress,
      () => new ResourceExhaustedError(`pull progress watcher fell behind by more than ${maxQueuedPullProgress} messages; watch again`));
    const onProgress = (p: ImagePullProgress): void => {
      if (ref !== undefined && p.ref !== ref) return;
      sub.push({ image: p.ref, layerDigest: p.layerDigest, bytesDone: BigInt(p.bytesDone), bytesTotal: BigInt(p.bytesTotal) });
    };
    const events = this.bus.events;
    events.on('image:pull-progressed', onProgress);
    // Off the bus as soon as the subscriber closes: a client that stopped reading may never resume the generator.
    sub.onClose(() => { events.off('image:pull-progressed', onProgress); });
    try {
      // The empty first message tells the client the listener is on the bus (see proto/crikit).
      yield {};
      yield* sub.drain(signal);
    } finally {
      sub.close();
    }
  }
}

// Pull events carry the normalised reference, so the request's is normalised the same way.
function watchedRef(image: string): string | undefined {
  if (image === '') return undefined;
  try {
    return ImageReference.parse(image).toString();
  } catch (err) {
    throw new InvalidArgumentError(`image: ${(err as Error).message}`, { cause: err });
  }
}
