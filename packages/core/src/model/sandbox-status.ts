/*
 * Sandbox lifecycle (internal state → CRI state):
 *
 *   RunPodSandbox ─► [created, not stored yet] ──pause task started──► ready ─────────► SANDBOX_READY
 *                                                                        │
 *                         StopPodSandbox, or the pause task exited       │
 *                                                                        ▼
 *                                                                    notready ───────► SANDBOX_NOTREADY
 *                                                                        │
 *                                                   RemovePodSandbox     ▼
 *                                                                    (deleted)
 *
 *   unknown ──────────────────────────────────────────────────────────────────────────► SANDBOX_NOTREADY
 *     Recovery could not decode the persisted record or read the pause task. The sandbox is kept,
 *     never dropped, so the kubelet sees it as not ready, stops it and removes it; Stop and Remove
 *     must work from `unknown`, and recovery moves it to ready or notready once the task is known.
 *
 * A failed RunPodSandbox undoes every step and never stores a record, so there is no "creating"
 * state to report: the name is reserved in the store meanwhile, and that is all.
 */
import { cri } from '@crikit/api';
import type { SandboxState } from './sandbox-record.js';

/** The CRI state reported for an internal state. CRI has no "unknown" sandbox state: it reads as not ready. */
export function toCriSandboxState(state: SandboxState): cri.PodSandboxState {
  switch (state) {
    case 'ready': return cri.PodSandboxState.SANDBOX_READY;
    case 'notready': return cri.PodSandboxState.SANDBOX_NOTREADY;
    case 'unknown': return cri.PodSandboxState.SANDBOX_NOTREADY;
  }
}
