// pnpm test:chaos: pod and container lifecycles through a crikitd child while crikitd and containerd are
// killed, the CNI plugin fails or hangs and the registry flaps; then nothing may be lost or leaked.
//   --seed N / CHAOS_SEED        replay a run's fault plan (a fresh seed is printed otherwise)
//   --full                       the long run: 200 lifecycles (CHAOS_LIFECYCLES overrides either size)
//   CHAOS_CONCURRENCY            lifecycles at once (3)
// The default is the CI-sized run. Network numbers 70 (this run).
import { parseArgs } from 'node:util';
import { runChaos } from './chaos-run.js';
import { freshSeed } from './prng.js';

const { values } = parseArgs({ options: { seed: { type: 'string' }, full: { type: 'boolean', default: false } } });
const seed = Number(values.seed ?? process.env.CHAOS_SEED ?? freshSeed());
const lifecycles = Number(process.env.CHAOS_LIFECYCLES ?? (values.full ? 200 : 30));
const concurrency = Number(process.env.CHAOS_CONCURRENCY ?? 3);
const t0 = Date.now();
const log = (line: string): void => console.log(`[chaos +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`);

log(`seed ${seed} (replay with --seed ${seed}), ${lifecycles} lifecycles, ${concurrency} at once`);
const report = await runChaos({ seed, lifecycles, concurrency, network: 70, faultGapMs: [1_500, 5_000], log });
const faults = Object.values(report.faults).reduce((a, b) => a + b, 0);
console.log(JSON.stringify({ ...report, faultsTotal: faults, problems: report.problems.length }, null, 1));
for (const p of report.problems) console.log(`PROBLEM: ${p}`);
console.log(report.problems.length === 0 ? `chaos: passed (seed ${seed})` : `chaos: FAILED (seed ${seed}): ${report.problems.length} problems`);
process.exit(report.problems.length === 0 ? 0 : 1);
