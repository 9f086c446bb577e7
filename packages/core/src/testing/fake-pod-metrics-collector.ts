import type { cri } from '@crikit/api';
import type { PodMetricsCollector } from '../contracts/pod-metrics-collector.js';
import { throwIfAborted } from '../errors.js';
import { FakeRecorder, type MethodsOf } from './fake-recorder.js';

/** A PodMetricsCollector that answers with the descriptors and pod metrics it was given. */
export class FakePodMetricsCollector extends FakeRecorder<MethodsOf<PodMetricsCollector>> implements PodMetricsCollector {
  /** What `metricDescriptors` answers. */
  descriptors: cri.MetricDescriptor[] = [];
  /** What `listPodSandboxMetrics` answers. */
  podMetrics: cri.PodSandboxMetrics[] = [];

  metricDescriptors(): readonly cri.MetricDescriptor[] {
    this.record('metricDescriptors');
    return this.descriptors;
  }

  async listPodSandboxMetrics(signal: AbortSignal): Promise<readonly cri.PodSandboxMetrics[]> {
    this.record('listPodSandboxMetrics');
    throwIfAborted(signal, 'list pod sandbox metrics');
    return this.podMetrics;
  }
}
