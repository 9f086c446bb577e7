// pnpm test:chaos: pod and container lifecycles through a crikitd child while crikitd and containerd are
// killed, the CNI plugin fails or hangs and the registry flaps; then nothing may be lost or leaked.
//   --seed N / CHAOS_SEED        replay a run's fault plan (a fresh seed is printed otherwise)
//   --full                       the long run: 200 lifecycles (CHAOS_LIFECYCLES overrides either size)
//   --faults a,b / CHAOS_FAULTS   only these fault kinds (crikitd-kill, containerd-kill, cni-fail,
//                                cni-hang, registry-flap; all by default)
//   CHAOS_CONCURRENCY            lifecycles at once (3)
//   CHAOS_NETWORK                podTestEnv's network number (70; 71 and 93 are the chaos suite's too,
//                                for a second run at once)
// The default is the CI-sized run.
import { parseArgs } from 'node:util';
import { runChaos } from './chaos-run.js';
import { faultKinds, type FaultKind } from './faults.js';
import { freshSeed } from './prng.js';

const { values } = parseArgs({ options: { seed: { type: 'string' }, full: { type: 'boolean', default: false }, faults: { type: 'string' } } });
const faults = (values.faults ?? process.env.CHAOS_FAULTS ?? faultKinds.join(',')).split(',').map(f => f.trim()).filter(Boolean);
for (const f of faults) if (!(faultKinds as readonly string[]).includes(f)) throw new Error(`--faults: unknown fault kind "${f}" (known: ${faultKinds.join(', ')})`);
const seed = Number(values.seed ?? process.env.CHAOS_SEED ?? freshSeed());
const lifecycles = Number(process.env.CHAOS_LIFECYCLES ?? (values.full ? 200 : 30));
const concurrency = Number(process.env.CHAOS_CONCURRENCY ?? 3);
const t0 = Date.now();
const log = (line: string): void => console.log(`[chaos +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`);

log(`seed ${seed} (replay with --seed ${seed}), ${lifecycles} lifecycles, ${concurrency} at once, faults: ${faults.join(', ')}`);
const report = await runChaos({ seed, lifecycles, concurrency, network: Number(process.env.CHAOS_NETWORK ?? 70), faultGapMs: [1_500, 5_000], faults: faults as FaultKind[], log });
const injected = Object.values(report.faults).reduce((a, b) => a + b, 0);
console.log(JSON.stringify({ ...report, faultsTotal: injected, problems: report.problems.length }, null, 1));
for (const p of report.problems) console.log(`PROBLEM: ${p}`);
console.log(report.problems.length === 0 ? `chaos: passed (seed ${seed})` : `chaos: FAILED (seed ${seed}): ${report.problems.length} problems`);
process.exit(report.problems.length === 0 ? 0 : 1);
