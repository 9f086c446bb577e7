import type { ContainerRecord } from '../model/container-record.js';
import type { ImageRecord } from '../model/image-record.js';
import type { SandboxRecord } from '../model/sandbox-record.js';
import { ContainerStore } from '../stores/container-store.js';
import { ImageStore } from '../stores/image-store.js';
import { SandboxStore } from '../stores/sandbox-store.js';

/** A SandboxStore holding `records` (see `sandboxRecord`). @throws AlreadyExistsError on duplicate ids or names */
export function sandboxStoreWith(records: readonly SandboxRecord[]): SandboxStore {
  const store = new SandboxStore();
  for (const record of records) store.add(record);
  return store;
}

/** A ContainerStore holding `records` (see `containerRecord`). @throws AlreadyExistsError on duplicate ids or names */
export function containerStoreWith(records: readonly ContainerRecord[]): ContainerStore {
  const store = new ContainerStore();
  for (const record of records) store.add(record);
  return store;
}

/** An ImageStore holding `records` (see `imageRecord`); a name listed twice ends with the later image. */
export function imageStoreWith(records: readonly ImageRecord[]): ImageStore {
  const store = new ImageStore();
  for (const record of records) store.add(record);
  return store;
}
