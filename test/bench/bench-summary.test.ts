import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BenchRecord } from './bench-record.js';
import { markdownTable, readmeMarkers, replaceReadmeTable, textTable } from './bench-summary.js';
import { percentile, summarize } from './bench-stats.js';

const latency: BenchRecord = {
  bench: 'pods', operation: 'RunPodSandbox (sequential)', unit: 'ms',
  crikit: { p50: 200, p90: 300, count: 30 }, containerd: { p50: 250, p90: 250, count: 30 },
};
const rss: BenchRecord = { bench: 'memory', operation: 'crikitd RSS, idle', unit: 'MiB', crikit: { p50: 71.25, p90: 71.25, count: 1 } };

test('p90 is the nearest-rank 90th percentile', () => {
  const values = Array.from({ length: 20 }, (_, i) => 20 - i);
  assert.equal(percentile(values, 90), 18);
  assert.equal(summarize(values).p90, 18);
});

test('the Markdown table has a row per record with the ratios crikit/containerd, dashes where there is no counterpart', () => {
  const lines = markdownTable([latency, rss]).split('\n');
  assert.equal(lines.length, 4);
  assert.equal(lines[2], '| RunPodSandbox (sequential) | 200.0 | 300.0 | 250.0 | 250.0 | 0.80 | 1.20 |');
  assert.equal(lines[3], '| crikitd RSS, idle (MiB) | 71.3 | — | — | — | — | — |');
});

test('the text table lines up its columns', () => {
  const lines = textTable([latency, rss]).split('\n');
  assert.equal(lines.length, 3);
  assert.equal(lines[1]!.indexOf('200.0') + 5, lines[0]!.indexOf('crikit p50') + 'crikit p50'.length);
});

test('the README table is replaced between its markers and nowhere else', () => {
  const readme = `# crikit\n\n${readmeMarkers.begin}\nold\n${readmeMarkers.end}\n\nafter\n`;
  assert.equal(replaceReadmeTable(readme, 'new'), `# crikit\n\n${readmeMarkers.begin}\nnew\n${readmeMarkers.end}\n\nafter\n`);
  assert.throws(() => replaceReadmeTable('# crikit\n', 'new'), /bench-table/);
});
