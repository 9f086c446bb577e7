import { Timestamp, type containers } from '@crikit/api';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '../errors.js';
import type { FakeContainerd } from './fake-containerd.js';

/** The version the fake reports. */
export const fakeContainerdVersion = { version: 'v2.0.0-fake', revision: 'fake' } as const;

/**
 * Installs the in-memory behaviour of a fresh FakeContainerd: `version.version`, `namespaces.list`
 * (the fake's own namespace) and a `containers` service over `fake.containerRecords`, with
 * containerd's errors (AlreadyExists on create, NotFound on get/update/delete).
 */
export function installInMemoryContainerd(fake: FakeContainerd): void {
  const store = fake.containerRecords;
  const require = (id: string): containers.Container => {
    const found = store.get(id);
    if (!found) throw new NotFoundError(`container "${id}": not found`);
    return found;
  };
  fake
    .handle('version.version', () => fakeContainerdVersion)
    .handle('namespaces.list', () => ({ namespaces: [{ name: fake.namespace, labels: {} }] }))
    .handle('containers.create', ({ container }) => {
      if (!container || container.id === '') throw new InvalidArgumentError('create container: id must not be empty');
      if (store.has(container.id)) throw new AlreadyExistsError(`container "${container.id}": already exists`);
      const now = timestampNow();
      const created = { ...container, createdAt: now, updatedAt: now };
      store.set(created.id, created);
      return { container: created };
    })
    .handle('containers.get', ({ id }) => ({ container: require(id) }))
    .handle('containers.list', ({ filters }) => ({ containers: [...store.values()].filter(c => matchesFilters(c, filters)) }))
    .handle('containers.listStream', ({ filters }) => [...store.values()].filter(c => matchesFilters(c, filters)).map(container => ({ container })))
    .handle('containers.update', ({ container, updateMask }) => {
      if (!container) throw new InvalidArgumentError('update container: container must be set');
      const updated = applyUpdate(require(container.id), container, updateMask ?? []);
      store.set(updated.id, updated);
      return { container: updated };
    })
    .handle('containers.delete', ({ id }) => {
      require(id);
      store.delete(id);
      return {};
    });
}

/** Applies an update as containerd does: whole mutable fields without a mask, else only the masked paths. */
function applyUpdate(current: containers.Container, next: containers.Container, mask: readonly string[]): containers.Container {
  const updated: containers.Container = { ...current, labels: { ...current.labels }, extensions: { ...current.extensions }, updatedAt: timestampNow() };
  const paths = mask.length > 0 ? mask : ['labels', 'extensions', 'spec', 'image', 'snapshotter', 'snapshotkey', 'runtime'];
  for (const path of paths) {
    const [field, ...rest] = path.split('.');
    const key = rest.join('.');
    if (field === 'labels' || field === 'extensions') {
      if (key === '') {
        (updated as Record<typeof field, unknown>)[field] = { ...next[field] };
      } else if (next[field][key] === undefined) {
        delete updated[field][key];
      } else {
        (updated[field] as Record<string, unknown>)[key] = next[field][key];
      }
    } else if (field === 'spec') updated.spec = next.spec;
    else if (field === 'image') updated.image = next.image;
    else if (field === 'snapshotter') updated.snapshotter = next.snapshotter;
    else if (field === 'snapshotkey') updated.snapshotKey = next.snapshotKey;
    else if (field === 'runtime') updated.runtime = next.runtime;
    else throw new InvalidArgumentError(`update container "${current.id}": cannot update field "${path}"`);
  }
  return updated;
}

/**
 * containerd's list filters, the subset crikit writes: `id==X`, `labels."k"==v`, `labels.k==v`,
 * `labels."k"` (present) and `!=`, clauses joined by `,` (and); several filters are or'ed.
 */
function matchesFilters(c: containers.Container, filters: readonly string[]): boolean {
  if (filters.length === 0) return true;
  return filters.some(filter => filter.split(',').every(clause => matchesClause(c, clause.trim())));
}

function matchesClause(c: containers.Container, clause: string): boolean {
  const m = /^(id|image|labels)(?:\."([^"]*)"|\.([\w-]+))?\s*(?:(==|!=)\s*(?:"([^"]*)"|(.*)))?$/.exec(clause);
  if (!m) throw new InvalidArgumentError(`fake containerd: filter "${clause}" is not supported`);
  const [, field, quotedKey, bareKey, op, quotedValue, bareValue] = m;
  const actual = field === 'labels' ? c.labels[quotedKey ?? bareKey ?? ''] : field === 'id' ? c.id : c.image;
  if (op === undefined) return actual !== undefined;
  const equal = actual === (quotedValue ?? bareValue ?? '').trim();
  return op === '==' ? equal : !equal;
}

function timestampNow(): Timestamp {
  const ms = Date.now();
  return Timestamp.fromPartial({ seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 });
}
