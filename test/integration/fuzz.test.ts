// Property-based fuzzing of every CRI RPC through crikitd's socket (issue 11): a seed-fixed run
// small enough for every `pnpm test`, and the cases earlier runs found, kept as regressions.
// `pnpm fuzz` is the long run (test/fuzz/main.ts).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { startFuzzEnv, type FuzzEnv } from '../fuzz/fuzz-env.js';

/** The CI run's seed; FUZZ_CI_REQUESTS changes its length. */
const SEED = 20_261_207;
const REQUESTS = Number(process.env.FUZZ_CI_REQUESTS ?? 600);

let fuzz: FuzzEnv;
before(async () => { fuzz = await startFuzzEnv(96); });
after(async () => { await fuzz?.close(); });

test(`${REQUESTS} generated requests from seed ${SEED}: crikitd stays up and every answer fits`, async () => {
  const report = await fuzz.fuzzer.run({ seed: SEED, requests: REQUESTS });
  console.log(`fuzz: ${report.requests} requests in ${report.ms} ms, ${JSON.stringify(report.byCode)}, ${Object.keys(report.byRpc).length} RPCs`);
  assert.equal(report.crashed, false, report.failures.at(-1)?.details);
  assert.deepEqual(report.failures, []);
  // Every RPC of both services takes part (41 in cri-api 0.36).
  assert.equal(Object.keys(report.byRpc).length, fuzz.fuzzer.rpcNames.length);
});

test('regression (seed 11, request 834): a hostname longer than 64 bytes is INVALID_ARGUMENT, not INTERNAL from runc', async () => {
  const r = await fuzz.fuzzer.replay('RunPodSandbox', 11 + 834);
  const hostname = (JSON.parse(r.request) as { config?: { hostname?: string } }).config?.hostname ?? '';
  assert.ok(Buffer.byteLength(hostname) > 64, `the replayed request has a ${hostname.length}-char hostname`);
  assert.equal(r.code, status.INVALID_ARGUMENT, r.details);
  assert.match(r.details, /config\.hostname is \d+ bytes, more than the kernel's 64/);
});

test('regression (every seed): bytes that are not protobuf are INVALID_ARGUMENT, not INTERNAL', async () => {
  for (const [rpc, bytes] of [['Version', [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]], ['RunPodSandbox', [0xff]], ['ListImages', [0x08]], ['PullImage', [0x0b, 0x0c]]] as const) {
    assert.equal(await fuzz.fuzzer.sendBytes(rpc, new Uint8Array(bytes)), status.INVALID_ARGUMENT, rpc);
  }
});
