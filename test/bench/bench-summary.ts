// The one table of `pnpm bench` (all.ts) from the records every benchmark appended: as plain text for the
// terminal, as Markdown for the README, and the README with its table replaced. Pure functions.
import type { BenchRecord, SideFigures } from './bench-record.js';
import { formatMs, formatRatio, formatTable, ratio } from './bench-stats.js';

/** Where the README's table begins and ends; everything between the two lines is replaced. */
export const readmeMarkers = { begin: '<!-- bench-table:begin -->', end: '<!-- bench-table:end -->' } as const;

/** One line of the table: the operation and its figures as strings. */
type Cells = readonly [operation: string, crikitP50: string, crikitP90: string, containerdP50: string, containerdP90: string, ratioP50: string, ratioP90: string];

const header: Cells = ['operation', 'crikit p50', 'p90', 'containerd p50', 'p90', 'ratio p50', 'p90'];

function figure(f: SideFigures | undefined): [string, string] {
  if (!f) return ['—', '—'];
  return f.count === 1 ? [formatMs(f.p50), '—'] : [formatMs(f.p50), formatMs(f.p90)];
}

function cells(r: BenchRecord): Cells {
  const unit = r.unit === 'ms' ? '' : ` (${r.unit})`;
  const [a50, a90] = figure(r.crikit);
  const [b50, b90] = figure(r.containerd);
  const ratios = r.containerd
    ? [formatRatio(ratio(r.crikit.p50, r.containerd.p50)), r.crikit.count > 1 ? formatRatio(ratio(r.crikit.p90, r.containerd.p90)) : '—']
    : ['—', '—'];
  return [`${r.operation}${unit}`, a50, a90, b50, b90, ratios[0]!, ratios[1]!];
}

/** The records as a plain-text table (milliseconds unless the operation names another unit). */
export function textTable(records: readonly BenchRecord[]): string {
  return formatTable([header, ...records.map(cells)]);
}

/** The records as a Markdown table. */
export function markdownTable(records: readonly BenchRecord[]): string {
  const line = (c: readonly string[]) => `| ${c.join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (i === 0 ? '---' : '---:'))), ...records.map(r => line(cells(r)))].join('\n');
}

/**
 * `readme` with the text between its bench-table markers replaced by `body`.
 * @throws Error when the README lacks the markers (in that order)
 */
export function replaceReadmeTable(readme: string, body: string): string {
  const begin = readme.indexOf(readmeMarkers.begin);
  const end = readme.indexOf(readmeMarkers.end);
  if (begin < 0 || end < begin) throw new Error(`README.md has no ${readmeMarkers.begin} … ${readmeMarkers.end} section`);
  return `${readme.slice(0, begin + readmeMarkers.begin.length)}\n${body}\n${readme.slice(end)}`;
}
