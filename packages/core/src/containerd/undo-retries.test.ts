// UndoRetries against a fake containerd: the start-up sweep of what a killed crikitd left (its leases,
// rootfs snapshots no container owns), and deferred undo steps run again once the event stream is back.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { snapshots as snapshotApi } from '@crikit/api';
import { NotFoundError, UnavailableError } from '../errors.js';
import type { ContainerdEventMonitor } from '../events/containerd-event-monitor.js';
import { silentLogger } from '../logger.js';
import { FakeContainerd } from '../testing/fake-containerd.js';
import { randomId } from '../testing/record-builders.js';
import { withLease } from './lease.js';
import { UndoRetries } from './undo-retries.js';

function setup() {
  const containerd = new FakeContainerd();
  const leases = new Set<string>();
  const snapshots = new Map<string, number>();
  containerd.handle('leases.create', req => { leases.add(req.id); return { lease: { id: req.id, labels: {} } }; });
  containerd.handle('leases.list', () => ({ leases: [...leases].map(id => ({ id, labels: {} })) }));
  containerd.handle('leases.delete', req => {
    if (!leases.delete(req.id)) throw new NotFoundError(`lease ${req.id}`);
    return {};
  });
  containerd.handle('snapshots.list', () => [{ info: [...snapshots].map(([name, kind]) => ({ name, kind, parent: '', labels: {} })) }]);
  containerd.handle('snapshots.remove', req => {
    if (!snapshots.delete(req.key)) throw new NotFoundError(`snapshot ${req.key}`);
    return {};
  });
  const events = new EventEmitter();
  const undo = new UndoRetries(containerd, { events } as unknown as ContainerdEventMonitor, silentLogger, 'overlayfs');
  return { containerd, leases, snapshots, events, undo };
}

test('start-up sweep: crikit leases no call holds and active snapshots of crikit ids no container owns go; the rest stays', async () => {
  const f = setup();
  const owned = randomId();
  const orphan = randomId();
  await f.containerd.containers.create({ container: { id: owned, snapshotKey: owned, labels: {} } });
  f.snapshots.set(owned, snapshotApi.Kind.ACTIVE);
  f.snapshots.set(orphan, snapshotApi.Kind.ACTIVE);
  f.snapshots.set('sha256:layer', snapshotApi.Kind.COMMITTED);
  f.snapshots.set('someone-elses-key', snapshotApi.Kind.ACTIVE);
  f.leases.add('crikit-create-0123456789abcdef');
  f.leases.add('not-crikits');
  let held = '';
  await withLease(f.containerd, 'pull', silentLogger, AbortSignal.timeout(5_000), async lease => {
    held = lease;
    await f.undo.start(AbortSignal.timeout(5_000));
    assert.ok(f.leases.has(lease), 'a lease in use is kept');
  });
  assert.deepEqual([...f.leases], ['not-crikits']);
  assert.ok(!f.leases.has(held));
  assert.deepEqual([...f.snapshots.keys()].sort(), [owned, 'sha256:layer', 'someone-elses-key'].sort());
  await f.undo.stop();
});

test('deferred undo steps run again on every resubscription until done; NOT_FOUND counts as done', async () => {
  const f = setup();
  await f.undo.start(AbortSignal.timeout(5_000));
  let down = true;
  const ran: string[] = [];
  f.undo.defer('sandbox x', [
    { what: 'destroy task', undo: () => { ran.push('task'); if (down) throw new UnavailableError('containerd down'); } },
    { what: 'remove snapshot', undo: () => { ran.push('snapshot'); throw new NotFoundError('snapshot x'); } },
  ]);
  f.events.emit('stream:subscribed');
  await f.undo.idle();
  assert.deepEqual(ran, ['task', 'snapshot']);
  assert.deepEqual(f.undo.owners(), ['sandbox x'], 'the step containerd was down for is still pending');
  down = false;
  // A stale lease left by a delete containerd was down for goes in the same round.
  f.leases.add('crikit-pull-0123456789abcdef');
  f.events.emit('stream:subscribed');
  await f.undo.idle();
  assert.deepEqual(ran, ['task', 'snapshot', 'task']);
  assert.deepEqual(f.undo.owners(), []);
  assert.equal(f.leases.size, 0);
  await f.undo.stop();
});
