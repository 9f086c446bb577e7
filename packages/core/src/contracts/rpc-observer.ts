/**
 * Told about every CRI call the server answers, e.g. to count and time them for Prometheus.
 * Called synchronously at the end of each call; must be cheap and must not throw.
 */
export interface RpcObserver {
  /**
   * One call ended.
   * @param rpc `<service>/<method>`, e.g. `RuntimeService/ListContainerStats`
   * @param seconds how long it took
   * @param code the gRPC status it ended with, by name (`OK`, `NOT_FOUND`, …)
   */
  rpcFinished(rpc: string, seconds: number, code: string): void;
}
export const RpcObserver = Symbol('RpcObserver');
