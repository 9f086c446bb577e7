// pnpm fuzz: the long property-based run against a crikitd (FUZZ_REQUESTS, 100,000 by default;
// FUZZ_SEED, 1 by default; FUZZ_NET, the podTestEnv network number, 96 by default; FUZZ_CONCURRENCY,
// requests in flight at once, 4 by default).
import { startFuzzEnv } from './fuzz-env.js';

const requests = Number(process.env.FUZZ_REQUESTS ?? 100_000);
const seed = Number(process.env.FUZZ_SEED ?? 1);
const fuzz = await startFuzzEnv(Number(process.env.FUZZ_NET ?? 96));
let failed = true;
let shown = 0;
try {
  const started = Date.now();
  const report = await fuzz.fuzzer.run({
    seed, requests, sweepEvery: 200, concurrency: Number(process.env.FUZZ_CONCURRENCY ?? 4),
    onProgress: (done, r) => {
      // Failures as they come, so a long run shows them without waiting for its end.
      for (const f of r.failures.slice(shown)) console.log(`failure: ${JSON.stringify(f).slice(0, 2_000)}`);
      shown = r.failures.length;
      if (done % 5_000 < 4) console.log(`${done} requests, ${r.failures.length} failures, ${Math.round(done / ((Date.now() - started) / 1000))} req/s`);
    },
  });
  console.log(JSON.stringify({ seed, requests: report.requests, seconds: report.ms / 1000, perSecond: Math.round(report.requests / (report.ms / 1000)),
    crashed: report.crashed, failures: report.failures.length, byCode: report.byCode }, null, 1));
  const slowest = Object.entries(report.msByRpc).sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, v]) => `${k} ${Math.round(v / 1000)}s`);
  console.log(`time by RPC: ${slowest.join(', ')}`);
  console.log(`RPCs driven: ${Object.keys(report.byRpc).length} of ${fuzz.fuzzer.rpcNames.length}`);
  for (const f of report.failures.slice(shown, shown + 30)) console.log(JSON.stringify(f).slice(0, 2_000));
  failed = report.crashed || report.failures.length > 0;
} finally {
  await fuzz.close();
}
process.exit(failed ? 1 : 0);
