// `pnpm bench:authority`: what accepting any HTTP/2 :authority costs. Two CRI gRPC servers in this
// process, built by crikit's own CriGrpcServer with the same handlers: one with `acceptAnyAuthority`
// (every connection through AuthorityFixingSocket), one letting grpc-js own its socket. A grpc-js
// client on a worker thread times Version (a unary call) and a 10 MiB ListContainers reply on each, in
// alternating blocks; then the old grpc-go client (socket path as :authority, only the first server
// answers it) and the same client dialling "localhost" time Version and the 10 MiB ListContainers.
// Prints p50, p90 and the ratios.
//
//   node test/dist/bench/authority.js [--rounds N] [--version-calls N] [--list-calls N]
//
// Nothing here asserts on time.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { cri } from '@crikit/api';
import { silentLogger } from '@crikit/core';
import { CriGrpcServer, LoggingRpcWrapper, ReadinessGate, type CriHandlerGroup } from '@crikit/server';
import { buildOldGrpcClient } from '../support/old-grpc-client.js';
import { formatMs, formatRatio, formatTable, percentile, ratio } from './bench-stats.js';
import type { ClientJob } from './authority-client.js';

const { values: args } = parseArgs({ options: {
  rounds: { type: 'string', default: '6' },
  'version-calls': { type: 'string', default: '500' },
  'list-calls': { type: 'string', default: '10' },
} });
const rounds = Number(args.rounds);

// 100 containers with about 100 KiB of annotations each: a 10 MiB ListContainers reply.
const containers = Array.from({ length: 100 }, (_, i) => cri.Container.fromPartial({
  id: `${i}`.padStart(64, '0'), podSandboxId: 'f'.repeat(64), state: cri.ContainerState.CONTAINER_RUNNING,
  metadata: { name: `c${i}`, attempt: 0 }, image: { image: 'registry.local/busybox:1' }, imageRef: `sha256:${'a'.repeat(64)}`,
  labels: { 'io.kubernetes.pod.name': `pod-${i}` },
  annotations: Object.fromEntries(Array.from({ length: 100 }, (_, j) => [`annotation-${j}`, 'x'.repeat(1000)])),
}));
const handlers: CriHandlerGroup = {
  runtime: () => ({
    version: async () => ({ version: '0.1.0', runtimeName: 'crikit', runtimeVersion: 'bench', runtimeApiVersion: 'v1' }),
    listContainers: async () => ({ containers }),
  }),
};

async function server(socket: string, acceptAnyAuthority: boolean): Promise<CriGrpcServer> {
  const gate = new ReadinessGate();
  gate.open();
  const s = new CriGrpcServer({ socket, socketMode: 0o600, shutdownTimeoutMs: 1_000, acceptAnyAuthority }, silentLogger,
    new LoggingRpcWrapper(silentLogger, gate), [handlers]);
  await s.listen();
  return s;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ck-auth-'));
  const sides = { filtered: path.join(dir, 'filtered.sock'), plain: path.join(dir, 'plain.sock') } as const;
  const servers = [await server(sides.filtered, true), await server(sides.plain, false)];
  const worker = new Worker(new URL('./authority-client.js', import.meta.url));
  const run = (job: ClientJob) => new Promise<number[]>(resolve => { worker.once('message', resolve); worker.postMessage(job); });
  const go = buildOldGrpcClient();
  const versionRequest = cri.VersionRequest.encode({ version: 'v1' }).finish();
  const versionPath = '/runtime.v1.RuntimeService/Version';
  const listPath = '/runtime.v1.RuntimeService/ListContainers';
  const listRequest = cri.ListContainersRequest.encode(cri.ListContainersRequest.fromPartial({})).finish();
  const samples: Record<string, number[]> = {};
  const add = (key: string, ms: number[]) => { (samples[key] ??= []).push(...ms); };
  try {
    const size = cri.ListContainersResponse.encode({ containers }).finish().length;
    process.stderr.write(`ListContainers reply: ${(size / 2 ** 20).toFixed(1)} MiB; ${rounds} rounds; load ${os.loadavg()[0]!.toFixed(2)}\n`);
    for (const side of ['filtered', 'plain'] as const) {   // warm-up
      await run({ socket: sides[side], rpc: 'version', calls: 200 });
      await run({ socket: sides[side], rpc: 'listContainers', calls: 3 });
    }
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? (['filtered', 'plain'] as const) : (['plain', 'filtered'] as const);
      for (const side of order) add(`${side} version`, await run({ socket: sides[side], rpc: 'version', calls: Number(args['version-calls']) }));
      for (const side of order) add(`${side} list`, await run({ socket: sides[side], rpc: 'listContainers', calls: Number(args['list-calls']) }));
      add('go old filtered', await go.repeat(sides.filtered, 'old', versionPath, versionRequest, Number(args['version-calls'])));
      add('go new plain', await go.repeat(sides.plain, 'new', versionPath, versionRequest, Number(args['version-calls'])));
      add('go new filtered', await go.repeat(sides.filtered, 'new', versionPath, versionRequest, Number(args['version-calls'])));
      add('go old filtered list', await go.repeat(sides.filtered, 'old', listPath, listRequest, Number(args['list-calls'])));
      add('go new plain list', await go.repeat(sides.plain, 'new', listPath, listRequest, Number(args['list-calls'])));
      process.stderr.write(`round ${r + 1}/${rounds} done\n`);
    }
  } finally {
    await worker.terminate();
    for (const s of servers) await s.shutdown(AbortSignal.timeout(2_000));
    go.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const row = (label: string, a: string, b: string): string[] => {
    const [x, y] = [samples[a]!, samples[b]!];
    return [label, formatMs(percentile(x, 50)), formatMs(percentile(x, 90)), formatMs(percentile(y, 50)), formatMs(percentile(y, 90)),
      formatRatio(ratio(percentile(x, 50), percentile(y, 50))), formatRatio(ratio(percentile(x, 90), percentile(y, 90)))];
  };
  console.log(formatTable([
    ['', 'any authority p50', 'p90', 'grpc-js socket p50', 'p90', 'ratio p50', 'p90'],
    row('Version (grpc-js client)', 'filtered version', 'plain version'),
    row('ListContainers 10 MiB (grpc-js client)', 'filtered list', 'plain list'),
    row('Version (grpc-go 1.33, "localhost")', 'go new filtered', 'go new plain'),
    row('Version (grpc-go 1.33, socket path vs "localhost")', 'go old filtered', 'go new plain'),
    row('ListContainers 10 MiB (grpc-go 1.33, socket path vs "localhost")', 'go old filtered list', 'go new plain list'),
  ]));
}

await main();
