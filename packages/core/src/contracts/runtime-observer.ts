/**
 * Told about the runtime's own work behind the CRI calls, e.g. to count and time it for Prometheus.
 * Every method is called synchronously, must be cheap and must not throw.
 */
export interface RuntimeObserver {
  /**
   * One CNI plugin run ended.
   * @param plugin the plugin's type (`bridge`, `portmap`, …)
   * @param command `ADD`, `DEL`, `CHECK`, `STATUS`, `GC` or `VERSION`
   * @param seconds how long the plugin ran
   * @param outcome `ok`, or `error` when it failed, timed out or was killed
   */
  cniPluginFinished(plugin: string, command: string, seconds: number, outcome: 'ok' | 'error'): void;
  /** The channel to containerd is ready again after it had been ready before (containerd restarted, or the connection was lost). */
  containerdReconnected(): void;
}
export const RuntimeObserver = Symbol('RuntimeObserver');
