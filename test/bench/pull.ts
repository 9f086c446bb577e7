// `pnpm bench:pull`: a ~200 MB image in 5 layers pulled cold through crikit's CRI and through containerd's own CRI
// plugin, from the same local registry, N runs each, sides alternating; prints seconds, ratios and peak memory.
//
//   node test/dist/bench/pull.js [--runs N] [--cpu-prof-dir DIR]      (BENCH_RUNS=N works too; needs root)
//
// Each run starts a side on a new empty root (cold: nothing in content or snapshots) and stops it after the pull,
// so start-up is not timed but every pull downloads and unpacks everything. A benchmark prints figures; nothing
// here asserts on time. It does fail when a pull does not produce the expected image.
import { mkdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { randomLayersImage, type BuiltImage } from '@crikit/testkit';
import { startBenchRegistry } from './bench-registry.js';
import { figures, record } from './bench-record.js';
import { formatMiB, formatSeconds, formatTable, ratioLine, sideRow } from './bench-stats.js';
import { beginBenchmark, highestPeaks, peakMemoryLines, startContainerdCriSide, startCrikitSide, withSide, type BenchSide, type SideName } from './harness.js';
import { runBenchmark } from './run-benchmark.js';

const layers = 5;
const bytesPerLayer = 40 << 20;
const pullTimeoutMs = 180_000;
const repository = 'bench/pull';

/** One timed pull. */
interface PullRun {
  readonly seconds: number;
  /** What crikitd itself logged as the pull's duration (`image pulled`, `ms`); crikit only. */
  readonly loggedMs?: number;
  readonly criPeakKiB: number;
  readonly containerdPeakKiB: number;
}

function options(): { runs: number; cpuProfDir: string | undefined } {
  const { values } = parseArgs({ options: { runs: { type: 'string' }, 'cpu-prof-dir': { type: 'string' } } });
  const runs = Number(values.runs ?? process.env.BENCH_RUNS ?? 3);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${values.runs ?? process.env.BENCH_RUNS}`);
  return { runs, cpuProfDir: values['cpu-prof-dir'] };
}

/** Pulls `ref` through `side`, checks that the image it reports is `image`, and returns the wall seconds of PullImage. */
async function timedPull(side: BenchSide, ref: string, image: BuiltImage): Promise<number> {
  const started = performance.now();
  const { imageRef } = await side.client.image.pullImage({ image: { image: ref } }, { timeoutMs: pullTimeoutMs });
  const seconds = (performance.now() - started) / 1000;
  const expected = image.config.digest;
  if (imageRef !== expected) throw new Error(`${side.name}: PullImage returned image ref ${imageRef}, expected ${expected}`);
  const status = await side.client.image.imageStatus({ image: { image: ref } }, { timeoutMs: 30_000 });
  if (status.image?.id !== expected) {
    throw new Error(`${side.name}: ImageStatus of ${ref} gives ${status.image?.id ?? 'no image'}, expected ${expected}\n${side.logTail(20).join('\n')}`);
  }
  return seconds;
}

/** The `ms` of crikitd's last `image pulled` log line, if any. */
function loggedPullMs(side: BenchSide): number | undefined {
  for (const line of side.logTail(200).reverse()) {
    try {
      const rec = JSON.parse(line) as { msg?: string; ms?: number };
      if (rec.msg === 'image pulled' && typeof rec.ms === 'number') return rec.ms;
    } catch { /* not a JSON line */ }
  }
  return undefined;
}

async function main(signal: AbortSignal): Promise<void> {
  const { runs, cpuProfDir } = options();
  const { say, load } = beginBenchmark('bench:pull', 'containerd mounts overlay snapshots');
  const registry = await startBenchRegistry();

  let t = performance.now();
  const image = await randomLayersImage({ layers, bytesPerLayer });
  const imageBytes = image.layers.reduce((n, l) => n + l.size, 0);
  say(`built ${formatMiB(imageBytes)} in ${layers} layers in ${formatSeconds((performance.now() - t) / 1000)} s`);
  t = performance.now();
  const reference = await registry.push(repository, image, 'v1');
  say(`pushed ${reference} in ${formatSeconds((performance.now() - t) / 1000)} s`);

  if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
  const starters: Record<SideName, () => Promise<BenchSide>> = {
    crikit: () => startCrikitSide({
      registryHostsDir: registry.hostsDir,
      ...(cpuProfDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] } : {}),
    }),
    containerd: () => startContainerdCriSide({ registryHostsDir: registry.hostsDir }),
  };
  const results: Record<SideName, PullRun[]> = { crikit: [], containerd: [] };
  for (let run = 0; run < runs; run++) {
    // Alternate which side goes first, so drift in machine noise (page cache, CPU frequency) hits both alike.
    const order: SideName[] = run % 2 === 0 ? ['crikit', 'containerd'] : ['containerd', 'crikit'];
    for (const name of order) {
      signal.throwIfAborted();
      const { result, memory } = await withSide(starters[name], async side => {
        const seconds = await timedPull(side, reference, image);
        return { seconds, loggedMs: name === 'crikit' ? loggedPullMs(side) : undefined };
      });
      results[name].push({ ...result, ...memory });
      const logged = result.loggedMs === undefined ? '' : ` (crikitd logged ${result.loggedMs} ms)`;
      say(`run ${run + 1}/${runs} ${name.padEnd(10)} ${formatSeconds(result.seconds)} s${logged}`);
    }
  }

  const seconds = (name: SideName) => results[name].map(r => r.seconds);
  record([{ bench: 'pull', operation: `PullImage cold (${Math.round(imageBytes / (1 << 20))} MiB, ${layers} layers)`, unit: 's',
    crikit: figures(seconds('crikit')), containerd: figures(seconds('containerd')) }]);
  const out = [
    `pull ${Math.round(imageBytes / (1 << 20))} MiB / ${layers} layers, ${runs} cold run${runs === 1 ? '' : 's'} each`,
    formatTable([sideRow('crikit', seconds('crikit'), 's'), sideRow('containerd', seconds('containerd'), 's')]),
    ratioLine('crikit/containerd', seconds('crikit'), seconds('containerd')),
    ...peakMemoryLines({ crikit: highestPeaks(results.crikit), containerd: highestPeaks(results.containerd) }),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  say(`load average ${load()}`);
  if (cpuProfDir) say(`crikitd CPU profiles in ${cpuProfDir}`);
}

const { runs } = (() => { try { return options(); } catch { return { runs: 3 }; } })();
// Set-up (build, push) takes well under a minute; a cold pull of 200 MB a few seconds per side.
runBenchmark('bench:pull', main, { timeoutMs: 120_000 + runs * 2 * 150_000 });
