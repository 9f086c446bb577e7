import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Logger } from '../logger.js';
import { containerRecord, sandboxRecord } from '../testing/record-builders.js';
import { RuntimeEventBus } from './runtime-events.js';

function errorLogger(): Logger & { errors: object[] } {
  const errors: object[] = [];
  const log = { errors, trace() {}, debug() {}, info() {}, warn() {}, error(obj: object) { errors.push(obj); }, child() { return log; } };
  return log;
}

describe('RuntimeEventBus', () => {
  it('delivers typed payloads to listeners', () => {
    const bus = new RuntimeEventBus(errorLogger());
    const record = containerRecord({ status: { state: 'exited', exitCode: 2 } });
    const seen: [string, number][] = [];
    bus.events.on('container:exited', (r, code) => seen.push([r.metadata.id, code]));
    bus.emit('container:exited', record, 2);
    assert.deepEqual(seen, [[record.metadata.id, 2]]);
  });

  it('logs a throwing listener and still calls the others; emit never throws', () => {
    const log = errorLogger();
    const bus = new RuntimeEventBus(log);
    const seen: string[] = [];
    bus.events.on('sandbox:created', () => { throw new Error('listener bug'); });
    bus.events.on('sandbox:created', r => seen.push(r.metadata.name));
    const record = sandboxRecord();
    assert.doesNotThrow(() => bus.emit('sandbox:created', record));
    assert.deepEqual(seen, [record.metadata.name]);
    assert.equal(log.errors.length, 1);
    assert.equal((log.errors[0] as { event: string }).event, 'sandbox:created');
  });

  it('once and off work through the Subscribable view', () => {
    const bus = new RuntimeEventBus(errorLogger());
    const seen: number[] = [];
    const progress = (p: { bytesDone: number }) => seen.push(p.bytesDone);
    bus.events.once('image:pull-progressed', progress);
    const event = { ref: 'docker.io/library/busybox:latest', layerDigest: 'sha256:aa', bytesDone: 1, bytesTotal: 10 };
    bus.emit('image:pull-progressed', event);
    bus.emit('image:pull-progressed', { ...event, bytesDone: 2 });
    bus.events.on('image:pull-progressed', progress);
    bus.events.off('image:pull-progressed', progress);
    bus.emit('image:pull-progressed', { ...event, bytesDone: 3 });
    assert.deepEqual(seen, [1]);
    assert.equal(bus.listenerCount('image:pull-progressed'), 0);
  });
});
