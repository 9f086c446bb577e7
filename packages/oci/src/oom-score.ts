import { readFile } from 'node:fs/promises';
import { InternalError } from '@crikit/core';

/** The range the kernel accepts for `oom_score_adj`. */
export const OOM_SCORE_ADJ_MIN = -1000;
export const OOM_SCORE_ADJ_MAX = 1000;

/**
 * The `oom_score_adj` a process may be given under `restrict_oom_score_adj`: never below the
 * runtime's own (an unprivileged runtime cannot lower it), and always within the kernel's range.
 * containerd: `restrictOOMScoreAdj` keeps `value` unless it is lower than `own`.
 * @param value what was asked (the CRI's `oom_score_adj`, or -998 for a sandbox)
 * @param own the runtime's own score (`readOwnOomScoreAdj`)
 */
export function clampOomScoreAdj(value: number, own: number): number {
  const wanted = Math.max(value, own);
  return Math.min(OOM_SCORE_ADJ_MAX, Math.max(OOM_SCORE_ADJ_MIN, wanted));
}

/**
 * Reads this process's `oom_score_adj` (`/proc/self/oom_score_adj`), for `clampOomScoreAdj`.
 * @param path only for tests
 * @throws InternalError when the file cannot be read or holds no integer
 */
export async function readOwnOomScoreAdj(path = '/proc/self/oom_score_adj'): Promise<number> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new InternalError(`read own oom_score_adj from ${path}`, { cause: err });
  }
  const value = Number(text.trim());
  if (!Number.isInteger(value)) throw new InternalError(`read own oom_score_adj from ${path}: not an integer: "${text.trim()}"`);
  return value;
}
