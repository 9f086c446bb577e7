/*
 * Container lifecycle (internal state → CRI state):
 *
 *   CreateContainer ──► created ──StartContainer──► running ──task exited / StopContainer──► exited
 *                          │                                                                  ▲
 *                          └──────── StartContainer failed (reason StartError) ───────────────┘
 *
 *   created  → CONTAINER_CREATED     running → CONTAINER_RUNNING     exited → CONTAINER_EXITED
 *   unknown  → CONTAINER_UNKNOWN
 *     Recovery could not decode the persisted record or read the task. The container is kept, never
 *     dropped; StopContainer and RemoveContainer must work from `unknown`.
 *
 * RemoveContainer deletes the record from any state (a running container is killed first, as the
 * CRI requires). A failed CreateContainer undoes every step and never stores a record.
 */
import { cri } from '@crikit/api';
import type { ContainerState } from './container-record.js';

/** The CRI state reported for an internal state. */
export function toCriContainerState(state: ContainerState): cri.ContainerState {
  switch (state) {
    case 'created': return cri.ContainerState.CONTAINER_CREATED;
    case 'running': return cri.ContainerState.CONTAINER_RUNNING;
    case 'exited': return cri.ContainerState.CONTAINER_EXITED;
    case 'unknown': return cri.ContainerState.CONTAINER_UNKNOWN;
  }
}
