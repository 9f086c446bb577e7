// What a benchmark measured, kept for `pnpm bench` (all.ts): when CRIKIT_BENCH_RECORD names a file, each
// benchmark appends one JSON line per operation to it. Run alone, a benchmark records nothing.
import { appendFileSync } from 'node:fs';
import { summarize, type LatencyRow } from './bench-stats.js';

/** The figures of one side for one operation. */
export interface SideFigures {
  readonly p50: number;
  readonly p90: number;
  /** How many samples (1 for a single reading such as an RSS). */
  readonly count: number;
}

/** One operation measured on both sides (containerd missing where it has no counterpart). */
export interface BenchRecord {
  /** The benchmark that measured it, e.g. `pods`. */
  readonly bench: string;
  readonly operation: string;
  /** `ms` for latencies, `s` for whole pulls, `MiB/s` for throughput, `MiB` for memory. */
  readonly unit: 'ms' | 's' | 'MiB/s' | 'MiB';
  /** Whether more is better (throughput): its ratio goal is ≥ 1 instead of ≤ 1. */
  readonly higherIsBetter?: boolean;
  readonly crikit: SideFigures;
  readonly containerd?: SideFigures;
}

/** The environment variable naming the JSON-lines file records go to. */
export const recordEnv = 'CRIKIT_BENCH_RECORD';

/** Appends `records` to the file CRIKIT_BENCH_RECORD names; does nothing when it is unset. */
export function record(records: readonly BenchRecord[]): void {
  const file = process.env[recordEnv];
  if (!file || records.length === 0) return;
  appendFileSync(file, records.map(r => `${JSON.stringify(r)}\n`).join(''));
}

/** The figures of a sample. */
export function figures(values: readonly number[]): SideFigures {
  const s = summarize(values);
  return { p50: s.p50, p90: s.p90, count: s.count };
}

/** A single reading as figures (p50 = p90 = the value). */
export function reading(value: number): SideFigures {
  return { p50: value, p90: value, count: 1 };
}

/** Records the rows of a latency table (milliseconds); rows with an empty sample on either side are left out. */
export function recordLatency(bench: string, rows: readonly LatencyRow[]): void {
  record(rows.filter(([, a, b]) => a.length > 0 && b.length > 0)
    .map(([operation, a, b]) => ({ bench, operation, unit: 'ms', crikit: figures(a), containerd: figures(b) })));
}
