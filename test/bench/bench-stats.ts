// Statistics and plain-text tables for the side-by-side benchmarks. Pure functions; nothing here times anything.

/** The usual figures of one sample of measurements (seconds, bytes, whatever unit the caller keeps). */
export interface Summary {
  /** How many values the sample holds. */
  readonly count: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
  /** The median, by the nearest-rank method (so always one of the values). */
  readonly p50: number;
  /** The 90th percentile by nearest rank. */
  readonly p90: number;
  /** The 99th percentile by nearest rank; with fewer than 100 values it is the max. */
  readonly p99: number;
}

/**
 * The nearest-rank percentile `p` (0 < p ≤ 100) of `values`, which need not be sorted.
 * @throws RangeError on an empty sample or a `p` outside (0, 100]
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of an empty sample');
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
}

/**
 * Mean, min, max, p50, p90 and p99 of `values`.
 * @throws RangeError on an empty sample
 */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new RangeError('summary of an empty sample');
  return {
    count: values.length,
    mean: values.reduce((a, b) => a + b, 0) / values.length,
    min: Math.min(...values),
    max: Math.max(...values),
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
  };
}

/** `a / b`, or NaN when `b` is 0 (a ratio of nothing is not a figure); `formatRatio` prints NaN as `n/a`. */
export function ratio(a: number, b: number): number {
  return b === 0 ? Number.NaN : a / b;
}

/** A ratio with two decimals, `n/a` when it is not a number. */
export function formatRatio(value: number): string {
  return Number.isFinite(value) ? value.toFixed(2) : 'n/a';
}

/** Seconds with two decimals: `2.91`. */
export function formatSeconds(seconds: number): string {
  return seconds.toFixed(2);
}

/** Bytes (or KiB with `unit: 'KiB'`) as MiB with one decimal: `95.3 MiB`. */
export function formatMiB(amount: number, unit: 'B' | 'KiB' = 'B'): string {
  const bytes = unit === 'KiB' ? amount * 1024 : amount;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/** Which side of a column its cells line up on. */
export type Align = 'left' | 'right';

/**
 * Plain text, one line per row, columns separated by at least `gap` spaces and padded to their widest
 * cell. The first column is left-aligned and the others right-aligned unless `align` says otherwise.
 * Trailing spaces are trimmed. Rows may have different lengths.
 */
export function formatTable(rows: readonly (readonly string[])[], options: { align?: readonly Align[]; gap?: number } = {}): string {
  const gap = ' '.repeat(options.gap ?? 2);
  const columns = Math.max(0, ...rows.map(r => r.length));
  const widths = Array.from({ length: columns }, (_, c) => Math.max(0, ...rows.map(r => (r[c] ?? '').length)));
  const alignOf = (c: number): Align => options.align?.[c] ?? (c === 0 ? 'left' : 'right');
  return rows
    .map(row => row.map((cell, c) => (alignOf(c) === 'left' ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(gap).trimEnd())
    .join('\n');
}

/**
 * The row of one side in a side-by-side table: its name, each value with `unit`, then the mean and min.
 * `sideRow('crikit', [2.91, 2.85], 's')` gives `['crikit', '2.91 s', '2.85 s', 'mean 2.88', 'min 2.85']`.
 */
export function sideRow(name: string, values: readonly number[], unit: string, format: (v: number) => string = formatSeconds): string[] {
  const s = summarize(values);
  return [name, ...values.map(v => `${format(v)} ${unit}`), `mean ${format(s.mean)}`, `min ${format(s.min)}`];
}

/** `ratio crikit/containerd  mean 1.11  min 1.12`: the ratio of the means and of the mins of two samples. */
export function ratioLine(label: string, a: readonly number[], b: readonly number[]): string {
  const sa = summarize(a);
  const sb = summarize(b);
  return `ratio ${label}  mean ${formatRatio(ratio(sa.mean, sb.mean))}  min ${formatRatio(ratio(sa.min, sb.min))}`;
}

/** Milliseconds: two decimals below 10, one above. */
export function formatMs(ms: number): string {
  return ms < 10 ? ms.toFixed(2) : ms.toFixed(1);
}

/** One row of a latency table: its label, then crikit's sample and containerd's (milliseconds). */
export type LatencyRow = readonly [label: string, crikit: readonly number[], containerd: readonly number[]];

/**
 * A side-by-side latency table in milliseconds: a header, then per row its label, the p50, p90 and p99 of
 * crikit's sample, the same of containerd's, and the ratios crikit/containerd of the three.
 * @throws RangeError when a sample is empty
 */
export function latencyTable(rows: readonly LatencyRow[]): string {
  const header = ['', 'crikit p50', 'p90', 'p99', 'containerd p50', 'p90', 'p99', 'ratio p50', 'p90', 'p99'];
  return formatTable([header, ...rows.map(([label, crikit, containerd]) => {
    const a = summarize(crikit);
    const b = summarize(containerd);
    return [
      label,
      formatMs(a.p50), formatMs(a.p90), formatMs(a.p99),
      formatMs(b.p50), formatMs(b.p90), formatMs(b.p99),
      formatRatio(ratio(a.p50, b.p50)), formatRatio(ratio(a.p90, b.p90)), formatRatio(ratio(a.p99, b.p99)),
    ];
  })]);
}
