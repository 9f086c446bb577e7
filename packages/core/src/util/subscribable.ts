import type { EventEmitter } from 'eventemitter3';

/** The listening half of a typed event emitter: on/once/off only. */
export type Subscribable<Events extends EventEmitter.ValidEventTypes> =
  Pick<EventEmitter<Events>, 'on' | 'once' | 'off'>;
