/**
 * Runs a task one at a time, coalescing requests: a request while a run is going schedules exactly one
 * more run after it (however many requests came), so the last request is always followed by a whole run.
 * Failures go to `onError`; nothing is thrown at the requester.
 */
export class SerialRuns {
  private current: Promise<void> | undefined;
  private pending: (() => Promise<void>) | undefined;

  constructor(private readonly onError: (err: unknown) => void) {}

  /** Requests a run of `task` (the latest task requested wins when runs coalesce). Never throws. */
  run(task: () => Promise<void>): void {
    if (this.current) {
      this.pending = task;
      return;
    }
    this.current = this.loop(task);
  }

  /** Resolves once no run is going or pending. */
  async idle(): Promise<void> {
    while (this.current) await this.current;
  }

  private async loop(first: () => Promise<void>): Promise<void> {
    let task: (() => Promise<void>) | undefined = first;
    while (task) {
      try {
        await task();
      } catch (err) {
        this.onError(err);
      }
      task = this.pending;
      this.pending = undefined;
    }
    this.current = undefined;
  }
}
