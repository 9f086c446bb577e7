import { cri } from '@crikit/api';

/** The label keys every metric starts with (CRI-O's and cAdvisor's): container id, name, image. */
export const baseLabelKeys = ['id', 'name', 'image'] as const;

/** One metric crikit reports: its cAdvisor name, help, type and the label keys after the base ones. */
export interface MetricSpec {
  readonly name: string;
  readonly help: string;
  readonly type: cri.MetricType;
  readonly extraLabels: readonly string[];
}

const counter = (name: string, help: string, extraLabels: readonly string[] = []): MetricSpec => ({ name, help, type: cri.MetricType.COUNTER, extraLabels });
const gauge = (name: string, help: string, extraLabels: readonly string[] = []): MetricSpec => ({ name, help, type: cri.MetricType.GAUGE, extraLabels });

/**
 * Every metric of ListPodSandboxMetrics, named, typed and labelled as cAdvisor names them (the set
 * CRI-O's `included_pod_metrics` covers, minus what needs per-process scans: fds, sockets, threads,
 * ulimits). Values are unsigned integers, so seconds are whole seconds, as CRI-O sends them.
 */
export const metricSpecs = {
  lastSeen: gauge('container_last_seen', 'Last time a container was seen by the exporter'),
  cpuUser: counter('container_cpu_user_seconds_total', 'Cumulative user CPU time consumed in seconds.'),
  cpuSystem: counter('container_cpu_system_seconds_total', 'Cumulative system CPU time consumed in seconds.'),
  cpuUsage: counter('container_cpu_usage_seconds_total', 'Cumulative CPU time consumed in seconds.', ['cpu']),
  cfsPeriods: counter('container_cpu_cfs_periods_total', 'Number of elapsed enforcement period intervals.'),
  cfsThrottledPeriods: counter('container_cpu_cfs_throttled_periods_total', 'Number of throttled period intervals.'),
  cfsThrottledSeconds: counter('container_cpu_cfs_throttled_seconds_total', 'Total time duration the container has been throttled.'),
  fsInodesFree: gauge('container_fs_inodes_free', 'Number of available Inodes'),
  fsInodesTotal: gauge('container_fs_inodes_total', 'Number of Inodes'),
  fsLimit: gauge('container_fs_limit_bytes', 'Number of bytes that can be consumed by the container on this filesystem.'),
  fsUsage: gauge('container_fs_usage_bytes', 'Number of bytes that are consumed by the container on this filesystem.'),
  memoryCache: gauge('container_memory_cache', 'Number of bytes of page cache memory.'),
  memoryRss: gauge('container_memory_rss', 'Size of RSS in bytes.'),
  memoryKernel: gauge('container_memory_kernel_usage', 'Size of kernel memory allocated in bytes.'),
  memoryMappedFile: gauge('container_memory_mapped_file', 'Size of memory mapped files in bytes.'),
  memorySwap: gauge('container_memory_swap', 'Container swap usage in bytes.'),
  memoryFailcnt: counter('container_memory_failcnt', 'Number of memory usage hits limits'),
  memoryUsage: gauge('container_memory_usage_bytes', 'Current memory usage in bytes, including all memory regardless of when it was accessed'),
  memoryMaxUsage: gauge('container_memory_max_usage_bytes', 'Maximum memory usage recorded in bytes'),
  memoryWorkingSet: gauge('container_memory_working_set_bytes', 'Current working set in bytes.'),
  memoryFailures: counter('container_memory_failures_total', 'Cumulative count of memory allocation failures.', ['failure_type', 'scope']),
  netRxBytes: counter('container_network_receive_bytes_total', 'Cumulative count of bytes received', ['interface']),
  netRxPackets: counter('container_network_receive_packets_total', 'Cumulative count of packets received', ['interface']),
  netRxDropped: counter('container_network_receive_packets_dropped_total', 'Cumulative count of packets dropped while receiving', ['interface']),
  netRxErrors: counter('container_network_receive_errors_total', 'Cumulative count of errors encountered while receiving', ['interface']),
  netTxBytes: counter('container_network_transmit_bytes_total', 'Cumulative count of bytes transmitted', ['interface']),
  netTxPackets: counter('container_network_transmit_packets_total', 'Cumulative count of packets transmitted', ['interface']),
  netTxDropped: counter('container_network_transmit_packets_dropped_total', 'Cumulative count of packets dropped while transmitting', ['interface']),
  netTxErrors: counter('container_network_transmit_errors_total', 'Cumulative count of errors encountered while transmitting', ['interface']),
  oomEvents: counter('container_oom_events_total', 'Count of out of memory events observed for the container'),
  processes: gauge('container_processes', 'Number of processes running inside the container.'),
  specCpuPeriod: gauge('container_spec_cpu_period', 'CPU period of the container.'),
  specCpuQuota: gauge('container_spec_cpu_quota', 'CPU quota of the container.'),
  specCpuShares: gauge('container_spec_cpu_shares', 'CPU share of the container.'),
  specMemoryLimit: gauge('container_spec_memory_limit_bytes', 'Memory limit for the container.'),
  specMemoryReservation: gauge('container_spec_memory_reservation_limit_bytes', 'Memory reservation limit for the container.'),
  specMemorySwapLimit: gauge('container_spec_memory_swap_limit_bytes', 'Memory swap limit for the container.'),
} as const satisfies Record<string, MetricSpec>;

/** The CRI descriptors of every metric, in a stable order. */
export const metricDescriptors: readonly cri.MetricDescriptor[] = Object.values(metricSpecs).map(s => ({
  name: s.name, help: s.help, labelKeys: [...baseLabelKeys, ...s.extraLabels],
}));
