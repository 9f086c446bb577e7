import type { Logger } from '../logger.js';

/** One undo step: what it undoes, and how. */
export type UndoStep = { readonly what: string; readonly undo: (signal: AbortSignal) => unknown };
type Step = UndoStep;

/**
 * Undo steps of a multi-step operation, run in reverse order when the operation fails.
 * Each step is logged; a failing step is logged and the rest still run.
 */
export class CleanupStack {
  private steps: Step[] = [];
  constructor(private readonly log: Logger) {}

  /** Records how to undo the step just taken. */
  push(what: string, undo: (signal: AbortSignal) => unknown): void {
    this.steps.push({ what, undo });
  }

  /** Forgets every step: the operation succeeded. */
  clear(): void {
    this.steps = [];
  }

  /**
   * Runs every step, last first, then forgets them. Never throws; resolves with the steps that
   * failed, in the order they ran, for the caller to run again later (see UndoRetries).
   */
  async run(signal: AbortSignal): Promise<UndoStep[]> {
    const steps = this.steps.reverse();
    this.steps = [];
    const failed: UndoStep[] = [];
    for (const step of steps) {
      try {
        await step.undo(signal);
        this.log.debug({ step: step.what }, 'rolled back');
      } catch (err) {
        this.log.warn({ step: step.what, err }, 'rollback step failed');
        failed.push(step);
      }
    }
    return failed;
  }
}
