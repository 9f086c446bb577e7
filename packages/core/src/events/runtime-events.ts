import { inject, injectable } from 'inversify';
import { Logger } from '../logger.js';
import type { ContainerRecord } from '../model/container-record.js';
import type { ImageRecord } from '../model/image-record.js';
import type { SandboxRecord } from '../model/sandbox-record.js';
import { GuardedEmitter } from '../util/guarded-emitter.js';
import type { Subscribable } from '../util/subscribable.js';

/** Sandbox lifecycle events. Each payload is the record as stored right after the change. */
export interface SandboxEvents {
  /** The sandbox is stored (RunPodSandbox got past creating its pause container). */
  'sandbox:created': [record: SandboxRecord];
  /** The pause task runs and the network is attached: the sandbox is ready. */
  'sandbox:started': [record: SandboxRecord];
  /** The sandbox is not ready any more (StopPodSandbox, or the pause task exited). */
  'sandbox:stopped': [record: SandboxRecord];
  /** The sandbox is gone from the store; the payload is its last snapshot. */
  'sandbox:removed': [record: SandboxRecord];
}

/** Container lifecycle events. Each payload is the record as stored right after the change. */
export interface ContainerEvents {
  'container:created': [record: ContainerRecord];
  'container:started': [record: ContainerRecord];
  /** The task exited (on its own, by StopContainer, or killed by the OOM killer; see `status.reason`). */
  'container:exited': [record: ContainerRecord, exitCode: number];
  /** The container is gone from the store; the payload is its last snapshot. */
  'container:removed': [record: ContainerRecord];
}

/** Progress of one layer of a pull. Bytes are numbers: a single layer stays far below 2^53. */
export interface ImagePullProgress {
  /** The reference being pulled, as normalised by the image service. */
  readonly ref: string;
  /** Digest of the layer (or config) blob being fetched. */
  readonly layerDigest: string;
  readonly bytesDone: number;
  /** The blob's size from the manifest. */
  readonly bytesTotal: number;
}

/** Image events. */
export interface ImageEvents {
  /** A pull finished and the image is stored; also sent when a pull found the image present. */
  'image:pulled': [record: ImageRecord];
  /** The image is gone from the store; the payload is its last snapshot. */
  'image:removed': [record: ImageRecord];
  /** Bytes arrived for a layer; sent at most every few hundred milliseconds per layer. */
  'image:pull-progressed': [progress: ImagePullProgress];
}

/** Every event the runtime bus carries. */
export type RuntimeEvents = SandboxEvents & ContainerEvents & ImageEvents;

/**
 * The one bus on which the sandbox, container and image services announce changes, after the
 * store commits. Listeners are synchronous and must not throw; one that does is logged
 * and the others still run, so a faulty listener cannot fail an RPC. The class is its own token.
 */
@injectable()
export class RuntimeEventBus {
  private readonly emitter: GuardedEmitter<RuntimeEvents>;
  /** Where listeners subscribe (on/once/off only). */
  readonly events: Subscribable<RuntimeEvents>;

  constructor(@inject(Logger) private readonly log: Logger) {
    this.emitter = new GuardedEmitter<RuntimeEvents>((err, event) => {
      this.log.error({ err, event: String(event) }, 'runtime event listener threw');
    });
    this.events = this.emitter;
  }

  /** Calls every listener of `event` with `args`. Never throws. */
  emit<E extends keyof RuntimeEvents>(event: E, ...args: RuntimeEvents[E]): void {
    // eventemitter3's ArgumentMap cannot be indexed by a generic key, so TS needs the widened call;
    // `args` was already checked against RuntimeEvents[E] by this method's signature.
    const emit = this.emitter.emit.bind(this.emitter) as (event: E, ...args: unknown[]) => boolean;
    emit(event, ...args);
  }

  /** How many listeners `event` has (for tests and diagnostics). */
  listenerCount(event: keyof RuntimeEvents): number {
    return this.emitter.listenerCount(event);
  }
}
