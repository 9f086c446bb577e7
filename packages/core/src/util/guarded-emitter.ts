import { EventEmitter } from 'eventemitter3';

/** Called when a listener throws or an (unwelcome) async listener rejects. */
export type ListenerErrorHandler = (err: unknown, event: PropertyKey) => void;

type AnyListener = (...args: unknown[]) => unknown;

/**
 * An eventemitter3 emitter whose listeners cannot break the emitter: each listener is wrapped so
 * that a throw (or a rejected promise) goes to `onListenerError` and the remaining listeners still
 * run. eventemitter3 itself lets the first throwing listener abort `emit` and reach the emitter.
 * `off` accepts the original listener, as with a plain emitter.
 */
export class GuardedEmitter<Events extends object> extends EventEmitter<Events> {
  /** One guard per (event, listener), so `off(event, fn)` can find the wrapper of `fn`. */
  private readonly guards = new Map<PropertyKey, WeakMap<AnyListener, AnyListener>>();

  constructor(private readonly onListenerError: ListenerErrorHandler) {
    super();
  }

  override on<T extends EventEmitter.EventNames<Events>>(event: T, fn: EventEmitter.EventListener<Events, T>, context?: unknown): this {
    return super.on(event, this.guard(event, fn), context);
  }

  override addListener<T extends EventEmitter.EventNames<Events>>(event: T, fn: EventEmitter.EventListener<Events, T>, context?: unknown): this {
    return super.addListener(event, this.guard(event, fn), context);
  }

  override once<T extends EventEmitter.EventNames<Events>>(event: T, fn: EventEmitter.EventListener<Events, T>, context?: unknown): this {
    return super.once(event, this.guard(event, fn), context);
  }

  override off<T extends EventEmitter.EventNames<Events>>(event: T, fn?: EventEmitter.EventListener<Events, T>, context?: unknown, once?: boolean): this {
    return super.off(event, fn && this.guardOf(event, fn), context, once);
  }

  override removeListener<T extends EventEmitter.EventNames<Events>>(event: T, fn?: EventEmitter.EventListener<Events, T>, context?: unknown, once?: boolean): this {
    return super.removeListener(event, fn && this.guardOf(event, fn), context, once);
  }

  /** The wrapper registered for `fn`, or `fn` itself when it was never registered (then nothing matches). */
  private guardOf<L>(event: PropertyKey, fn: L): L {
    return (this.guards.get(event)?.get(fn as AnyListener) as L | undefined) ?? fn;
  }

  private guard<L>(event: PropertyKey, fn: L): L {
    const original = fn as AnyListener;
    let byListener = this.guards.get(event);
    if (!byListener) this.guards.set(event, byListener = new WeakMap());
    const existing = byListener.get(original);
    if (existing) return existing as L;
    const report = this.onListenerError;
    const guarded = function (this: unknown, ...args: unknown[]): void {
      try {
        const result = original.apply(this, args);
        // Listeners must not be async (CONTRIBUTING.md, "Events"); if one is, its rejection is still not lost.
        if (result instanceof Promise) result.catch(err => report(err, event));
      } catch (err) {
        report(err, event);
      }
    };
    byListener.set(original, guarded);
    return guarded as L;
  }
}
