// `pnpm bench:images`: PullImage (a small image, ~1 MiB, from a local registry), ImageStatus, ListImages and
// RemoveImage latency through crikit's CRI and through containerd's own CRI plugin, in the same run; prints
// p50, p90 and p99 per RPC and the ratios crikit/containerd.
//
//   node test/dist/bench/images.js [--images N] [--rounds N]                                       (needs root)
//
// Each round pulls N (10) tags of the busybox fixture (one set of blobs: the first pull of a round fetches
// them, the others only resolve and tag), asks the status of each, lists all images, then removes every tag,
// so each round starts from a store without the image. Rounds (20) alternate the side going first. Every
// answer is checked (the pulled ref, a status with the image, the list holding every tag, no tag left after
// the removals); nothing here asserts on time.
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { busyboxImage } from '@crikit/testkit';
import { startBenchRegistry } from './bench-registry.js';
import { recordLatency } from './bench-record.js';
import { latencyTable, type LatencyRow } from './bench-stats.js';
import { beginBenchmark, peakMemoryLines, startContainerdCriSide, startCrikitSide, type BenchSide, type SideMemory, type SideName } from './harness.js';
import { runBenchmark } from './run-benchmark.js';

const rpcs = ['pull', 'status', 'list', 'remove'] as const;
type Rpc = (typeof rpcs)[number];
const rpcName: Record<Rpc, string> = { pull: 'PullImage (small, local registry)', status: 'ImageStatus', list: 'ListImages', remove: 'RemoveImage' };
const sideNames: readonly SideName[] = ['crikit', 'containerd'];
const rpcTimeoutMs = 60_000;

function options(): { images: number; rounds: number } {
  const { values } = parseArgs({ options: { images: { type: 'string' }, rounds: { type: 'string' } } });
  const int = (name: string, raw: string | undefined, dflt: number): number => {
    const n = Number(raw ?? dflt);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${raw}`);
    return n;
  };
  return { images: int('images', values.images, 10), rounds: int('rounds', values.rounds, 20) };
}

async function timed<T>(side: BenchSide, what: string, fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  try {
    const value = await fn();
    return { value, ms: performance.now() - started };
  } catch (err) {
    throw new Error(`${side.name}: ${what} failed: ${(err as Error).message}\n${side.logTail(25).join('\n')}`, { cause: err });
  }
}

/** One round on one side: pull, status, list, remove; the latency of every call. */
async function round(side: BenchSide, refs: readonly string[], samples: Record<Rpc, number[]>): Promise<void> {
  const { image } = side.client;
  const check = (ok: boolean, what: string) => { if (!ok) throw new Error(`${side.name}: ${what}\n${side.logTail(25).join('\n')}`); };
  for (const ref of refs) {
    const { value, ms } = await timed(side, `PullImage ${ref}`, () => image.pullImage({ image: { image: ref } }, { timeoutMs: rpcTimeoutMs }));
    check(value.imageRef !== '', `PullImage ${ref} gave no image ref`);
    samples.pull.push(ms);
  }
  for (const ref of refs) {
    const { value, ms } = await timed(side, `ImageStatus ${ref}`, () => image.imageStatus({ image: { image: ref } }, { timeoutMs: rpcTimeoutMs }));
    check(value.image?.repoTags.includes(ref) ?? false, `ImageStatus ${ref} does not list the tag`);
    samples.status.push(ms);
  }
  const listed = await timed(side, 'ListImages', () => image.listImages({}, { timeoutMs: rpcTimeoutMs }));
  const tags = new Set(listed.value.images.flatMap(i => i.repoTags));
  check(refs.every(r => tags.has(r)), 'ListImages misses a pulled tag');
  samples.list.push(listed.ms);
  for (const ref of refs) samples.remove.push((await timed(side, `RemoveImage ${ref}`, () => image.removeImage({ image: { image: ref } }, { timeoutMs: rpcTimeoutMs }))).ms);
  const after = await image.listImages({}, { timeoutMs: rpcTimeoutMs });
  check(!after.images.some(i => i.repoTags.some(t => refs.includes(t))), 'a tag is still listed after RemoveImage');
}

async function main(signal: AbortSignal): Promise<void> {
  const opts = options();
  const { say, load, elapsed } = beginBenchmark('bench:images', 'snapshots, mounts');
  const registry = await startBenchRegistry();
  const built = await busyboxImage();
  const refs: string[] = [];
  for (let i = 0; i < opts.images; i++) refs.push(await registry.push('bench/images', built, `t${i}`));
  say(`pushed ${opts.images} tags of ${refs[0]?.replace(/:t0$/, '')}`);

  const sides = {
    crikit: await startCrikitSide({ registryHostsDir: registry.hostsDir, config: { runtimes: { restrictOomScoreAdj: true } } }),
    containerd: await startContainerdCriSide({ registryHostsDir: registry.hostsDir }),
  } satisfies Record<SideName, BenchSide>;
  const samples = Object.fromEntries(sideNames.map(n => [n, { pull: [], status: [], list: [], remove: [] }])) as unknown as Record<SideName, Record<Rpc, number[]>>;
  // Warm-up: one untimed round per side.
  for (const name of sideNames) await round(sides[name], refs, { pull: [], status: [], list: [], remove: [] });
  say(`both sides up and warm (${elapsed()})`);
  for (let r = 0; r < opts.rounds; r++) {
    for (const name of r % 2 === 0 ? sideNames : [...sideNames].reverse()) {
      signal.throwIfAborted();
      await round(sides[name], refs, samples[name]);
    }
  }
  say(`rounds done (${elapsed()})`);
  const memory = {} as Record<SideName, SideMemory>;
  for (const name of sideNames) memory[name] = await sides[name].stop();

  const rows: LatencyRow[] = rpcs.map(rpc => [rpcName[rpc], samples.crikit[rpc], samples.containerd[rpc]] as const);
  recordLatency('images', rows);
  process.stdout.write(`${[`images: ${opts.rounds} rounds of ${opts.images} tags per side (ms)`, latencyTable(rows), ...peakMemoryLines(memory)].join('\n')}\n`);
  say(`load average ${load()}; ${elapsed()}`);
}

runBenchmark('bench:images', main, { timeoutMs: 10 * 60_000 });
