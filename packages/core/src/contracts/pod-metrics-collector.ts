import type { cri } from '@crikit/api';

/**
 * The cAdvisor-named metrics of pods and their containers, for the CRI ListMetricDescriptors,
 * ListPodSandboxMetrics and StreamPodSandboxMetrics RPCs (the kubelet's `/metrics/cadvisor`
 * replacement). Every method only reads.
 */
export interface PodMetricsCollector {
  /** Every metric this collector reports: its name, help text and label keys. Constant. */
  metricDescriptors(): readonly cri.MetricDescriptor[];

  /**
   * The metrics of every ready pod and its containers, with label values in the order of the
   * descriptors' label keys.
   * @throws UnavailableError when containerd cannot be reached
   */
  listPodSandboxMetrics(signal: AbortSignal): Promise<readonly cri.PodSandboxMetrics[]>;
}
export const PodMetricsCollector = Symbol('PodMetricsCollector');
