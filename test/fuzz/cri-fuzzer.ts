import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { cri } from '@crikit/api';
import type { RunningCrikitd } from '../support/crikitd.js';
import { containerConfig } from '../support/container-fixture.js';
import { podConfig } from '../support/pod-fixture.js';
import { messageArb, type FuzzPool } from './cri-arbitraries.js';
import { parseProto } from './proto-schema.js';

/** One answer the oracle refused: a crash, a hang, or UNKNOWN/INTERNAL for what a client sent. */
export interface FuzzFailure {
  readonly index: number;
  readonly rpc: string;
  readonly code: string;
  readonly details: string;
  /** The request as JSON (bigints as strings, bytes as base64), to replay it. */
  readonly request: string;
}

/** What a run did. */
export interface FuzzReport {
  requests: number;
  readonly byCode: Record<string, number>;
  readonly byRpc: Record<string, number>;
  /** Milliseconds spent waiting for each RPC's answers, and for sweeps. */
  readonly msByRpc: Record<string, number>;
  readonly failures: FuzzFailure[];
  ms: number;
  crashed: boolean;
}

type Method = { name: string; requestType: { fromPartial(o: unknown): unknown; encode(m: unknown): { finish(): Uint8Array } }; responseStream: boolean };
interface Rpc { readonly key: string; readonly service: 'runtime' | 'image'; readonly path: string; readonly method: Method; readonly weight: number }

/** Codes that answer bad input or a wrong state. UNKNOWN, INTERNAL and a client-side timeout never do. */
const FITTING = new Set([grpc.status.OK, grpc.status.INVALID_ARGUMENT, grpc.status.NOT_FOUND, grpc.status.ALREADY_EXISTS,
  grpc.status.FAILED_PRECONDITION, grpc.status.OUT_OF_RANGE, grpc.status.UNIMPLEMENTED, grpc.status.RESOURCE_EXHAUSTED, grpc.status.PERMISSION_DENIED]);
/** RPCs that may also answer UNAVAILABLE (a registry that is not there) or DEADLINE_EXCEEDED (ExecSync's own timeout). */
const ALSO: Record<string, Set<grpc.status>> = {
  pullImage: new Set([grpc.status.UNAVAILABLE]),
  execSync: new Set([grpc.status.DEADLINE_EXCEEDED]),
  // CRI: StopContainer waits up to its timeout for the stop signal to work (a PID 1 that ignores
  // SIGTERM); a huge timeout outlasts the client's deadline, as it should.
  stopContainer: new Set([grpc.status.DEADLINE_EXCEEDED]),
  getContainerEvents: new Set([grpc.status.DEADLINE_EXCEEDED, grpc.status.CANCELLED]),
};
/** Client deadlines shorter than a minute, for RPCs that may rightly wait for long. */
const CLIENT_DEADLINE_MS: Record<string, number> = { stopContainer: 5_000 };
// GetContainerEvents never ends by itself: it is read for a moment. The other streams end once
// they sent their list, which may take a while on a loaded machine.
const streamDeadlineMs = (rpc: Rpc): number => (rpc.key === 'getContainerEvents' ? 1_500 : 30_000);
/** Creating RPCs are slow (a pod is a netns, CNI and a runc container): asked for less often. */
const WEIGHTS: Record<string, number> = { runPodSandbox: 1, createContainer: 2, startContainer: 2, pullImage: 1, execSync: 2, getContainerEvents: 1 };

const jsonOf = (v: unknown): string => JSON.stringify(v, function (this: Record<string, unknown>, k, x: unknown) {
  // Buffer.toJSON has run before the replacer sees the value: look at the holder's own field.
  const own = this[k];
  return typeof own === 'bigint' ? `${own}n` : own instanceof Uint8Array ? { base64: Buffer.from(own).toString('base64') } : x;
});

/**
 * Property-based fuzzing of every RuntimeService and ImageService RPC through a crikitd's socket:
 * requests generated from the CRI proto with malformed and boundary values in every field, ids of
 * live, stopped, exited and removed objects, and raw bytes that are not protobuf at all. Oracle:
 * crikitd stays up, and every answer is a gRPC status that fits (never UNKNOWN or INTERNAL).
 */
export class CriFuzzer {
  private readonly schema = parseProto();
  private readonly arbitraries = new Map<string, fc.Arbitrary<Record<string, unknown>>>();
  private readonly rpcs: Rpc[];
  private readonly runtime: cri.RuntimeServiceClient;
  private readonly image: cri.ImageServiceClient;
  private readonly raw: grpc.Client;
  private readonly pool: FuzzPool & { refresh(): Promise<void>; seen(id: string): void };
  private baseline = { pod: '', podConfig: {} as ReturnType<typeof podConfig>, containers: [] as string[] };

  constructor(private readonly daemon: RunningCrikitd, private readonly dir: string, private readonly busybox: string) {
    const addr = `unix:${daemon.socket}`;
    this.runtime = new cri.RuntimeServiceClient(addr, grpc.credentials.createInsecure());
    this.image = new cri.ImageServiceClient(addr, grpc.credentials.createInsecure());
    this.raw = new grpc.Client(addr, grpc.credentials.createInsecure());
    const rpcsOf = (def: { name: string; fullName: string; methods: Record<string, Method> }, service: 'runtime' | 'image'): Rpc[] =>
      Object.entries(def.methods).map(([key, method]) => ({ key, service, method, path: `/${def.fullName}/${method.name}`, weight: WEIGHTS[key] ?? 4 }));
    this.rpcs = [...rpcsOf(cri.RuntimeServiceDefinition as never, 'runtime'), ...rpcsOf(cri.ImageServiceDefinition as never, 'image')];
    this.pool = this.makePool();
    for (const d of ['vol', 'logs', 'deep/a/b/c/d/e/f/g/h/i/j']) fs.mkdirSync(path.join(dir, d), { recursive: true });
    fs.writeFileSync(path.join(dir, 'vol', 'file'), 'x');
    fs.writeFileSync(path.join(dir, 'profile.json'), '{"defaultAction":"SCMP_ACT_ALLOW"}');
    if (!fs.existsSync(path.join(dir, 'dev-link'))) fs.symlinkSync('/dev', path.join(dir, 'dev-link'));
  }

  /** Every RPC the fuzzer drives (all of both services). */
  get rpcNames(): string[] {
    return this.rpcs.map(r => r.method.name);
  }

  /** Runs `requests` generated requests from `seed`; sweeps up what they created about every `sweepEvery`. */
  async run(options: {
    seed: number; requests: number; sweepEvery?: number;
    /** Requests in flight at once (1 by default, the order the seed gives). */
    concurrency?: number;
    onProgress?: (done: number, report: FuzzReport) => void;
  }): Promise<FuzzReport> {
    const started = Date.now();
    const report: FuzzReport = { requests: 0, byCode: {}, byRpc: {}, msByRpc: {}, failures: [], ms: 0, crashed: false };
    await this.ensureBaseline();
    const total = this.rpcs.reduce((s, r) => s + r.weight, 0);
    const every = options.sweepEvery ?? 100;
    const width = Math.max(1, options.concurrency ?? 1);
    for (let i = 0; i < options.requests && !report.crashed; i += width) {
      if (i > 0 && Math.floor(i / every) !== Math.floor((i - width) / every)) {
        const t = Date.now();
        await this.sweep(report);
        report.msByRpc['(sweep)'] = (report.msByRpc['(sweep)'] ?? 0) + Date.now() - t;
        options.onProgress?.(i, report);
      }
      const batch = Array.from({ length: Math.min(width, options.requests - i) }, (_, k) => i + k);
      await Promise.all(batch.map(j => this.one(j, options.seed, total, report)));
    }
    if (!report.crashed) await this.sweep(report);
    report.ms = Date.now() - started;
    return report;
  }

  // Request `i` of a run: its RPC and its request come from `seed + i` alone.
  private async one(i: number, seed: number, total: number, report: FuzzReport): Promise<void> {
    const [pickAt, raw] = fc.sample(fc.tuple(fc.nat({ max: total - 1 }), fc.nat({ max: 19 })), { seed: seed + i, numRuns: 1 })[0]!;
    // Every RPC once first, in order, so even a short run drives them all; then by weight.
    const rpc = i < this.rpcs.length ? this.rpcs[i]! : this.pickRpc(pickAt);
    // One request in twenty is raw bytes: truncated, flipped or random, not a valid message.
    const t = Date.now();
    const outcome = raw === 0 ? await this.sendRaw(rpc, seed + i) : await this.send(rpc, seed + i);
    report.msByRpc[rpc.method.name] = (report.msByRpc[rpc.method.name] ?? 0) + Date.now() - t;
    report.requests++;
    const code = grpc.status[outcome.code] ?? String(outcome.code);
    report.byCode[code] = (report.byCode[code] ?? 0) + 1;
    report.byRpc[rpc.method.name] = (report.byRpc[rpc.method.name] ?? 0) + 1;
    if (!this.fits(rpc, outcome.code)) {
      report.failures.push({ index: i, rpc: rpc.method.name + (raw === 0 ? ' (raw)' : ''), code, details: outcome.details, request: outcome.request });
    }
    if (!report.crashed && (this.daemon.proc.exitCode !== null || this.daemon.proc.signalCode !== null)) {
      report.crashed = true;
      report.failures.push({ index: i, rpc: rpc.method.name, code: 'CRASH', details: this.daemon.stderr().slice(-4000), request: outcome.request });
    }
  }

  /** Closes the clients. */
  close(): void {
    this.runtime.close();
    this.image.close();
    this.raw.close();
  }

  /**
   * Sends again the request a run generated for `rpc` from `sampleSeed` (a run's seed plus the
   * request's index), or raw bytes with `raw`; for regression cases.
   */
  async replay(rpcName: string, sampleSeed: number, options: { raw?: boolean } = {}): Promise<{ code: grpc.status; details: string; request: string; fits: boolean }> {
    await this.ensureBaseline();
    const rpc = this.rpcs.find(r => r.method.name === rpcName);
    if (!rpc) throw new Error(`fuzz: no RPC ${rpcName}`);
    const outcome = options.raw ? await this.sendRaw(rpc, sampleSeed) : await this.send(rpc, sampleSeed);
    return { ...outcome, fits: this.fits(rpc, outcome.code) };
  }

  /** Sends `bytes` as the request of `rpcName`. */
  async sendBytes(rpcName: string, bytes: Uint8Array): Promise<grpc.status> {
    const rpc = this.rpcs.find(r => r.method.name === rpcName)!;
    return new Promise(resolve => {
      this.raw.makeUnaryRequest(rpc.path, (b: Buffer) => b, (b: Buffer) => b, Buffer.from(bytes), new grpc.Metadata(), { deadline: Date.now() + 30_000 },
        err => resolve(err?.code ?? grpc.status.OK));
    });
  }

  // Built once per message type: building one is far slower than drawing from it, and the pool it
  // reads ids from is looked up at each draw.
  private arbitraryOf(type: string): fc.Arbitrary<Record<string, unknown>> {
    let arb = this.arbitraries.get(type);
    if (!arb) {
      arb = messageArb(this.schema, type, this.pool);
      this.arbitraries.set(type, arb);
    }
    return arb;
  }

  private fits(rpc: Rpc, code: grpc.status): boolean {
    return FITTING.has(code) || (ALSO[rpc.key]?.has(code) ?? false);
  }

  private pickRpc(at: number): Rpc {
    for (const r of this.rpcs) {
      if (at < r.weight) return r;
      at -= r.weight;
    }
    return this.rpcs[this.rpcs.length - 1]!;
  }

  /** Sends one generated request of `rpc`; the answer's status, never a throw. */
  async send(rpc: Rpc, seed: number): Promise<{ code: grpc.status; details: string; request: string }> {
    const type = this.schema.requests.get(rpc.method.name) ?? `${rpc.method.name}Request`;
    const obj = fc.sample(this.arbitraryOf(type), { seed, numRuns: 1 })[0]!;
    const request = jsonOf(obj);
    let msg: unknown;
    try {
      msg = rpc.method.requestType.fromPartial(obj);
      rpc.method.requestType.encode(msg);
    } catch (err) {
      // Not sendable (a value the wire type cannot hold): nothing reached crikitd.
      return { code: grpc.status.OK, details: `not sent: ${(err as Error).message}`, request };
    }
    const { code, details } = await this.call(rpc, msg);
    return { code, details, request };
  }

  /** Sends bytes that are not a valid request of `rpc` to its method path. */
  async sendRaw(rpc: Rpc, seed: number): Promise<{ code: grpc.status; details: string; request: string }> {
    const bytes = fc.sample(fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 64 }),
      fc.constantFrom(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), new Uint8Array([0x08]), new Uint8Array([0xff]), new Uint8Array([0x0b, 0x0c])),
    ), { seed, numRuns: 1 })[0]!;
    const request = jsonOf({ raw: Buffer.from(bytes) });
    const { code, details } = await new Promise<{ code: grpc.status; details: string }>(resolve => {
      const done = (err: grpc.ServiceError | null): void => resolve({ code: err?.code ?? grpc.status.OK, details: err?.details ?? '' });
      const options = { deadline: Date.now() + 30_000 };
      if (rpc.method.responseStream) {
        const call = this.raw.makeServerStreamRequest(rpc.path, (b: Buffer) => b, (b: Buffer) => b, Buffer.from(bytes), new grpc.Metadata(), { deadline: Date.now() + streamDeadlineMs(rpc) });
        call.on('data', () => undefined);
        call.on('error', done);
        call.on('end', () => done(null));
      } else {
        this.raw.makeUnaryRequest(rpc.path, (b: Buffer) => b, (b: Buffer) => b, Buffer.from(bytes), new grpc.Metadata(), options, err => done(err));
      }
    });
    // A decodable message (unknown fields skipped) is answered as any request would be.
    return { code, details, request };
  }

  private call(rpc: Rpc, msg: unknown): Promise<{ code: grpc.status; details: string }> {
    const client = (rpc.service === 'runtime' ? this.runtime : this.image) as unknown as Record<string, (...a: unknown[]) => unknown>;
    const fn = client[rpc.key]!.bind(client);
    return new Promise(resolve => {
      const done = (err: grpc.ServiceError | null, res?: unknown): void => {
        if (!err) this.learn(res);
        resolve({ code: err?.code ?? grpc.status.OK, details: err?.details ?? '' });
      };
      if (rpc.method.responseStream) {
        const call = fn(msg, new grpc.Metadata(), { deadline: Date.now() + streamDeadlineMs(rpc) }) as grpc.ClientReadableStream<unknown>;
        call.on('data', () => undefined);
        call.on('error', err => done(err as grpc.ServiceError));
        call.on('end', () => done(null));
      } else {
        fn(msg, new grpc.Metadata(), { deadline: Date.now() + (CLIENT_DEADLINE_MS[rpc.key] ?? 60_000) }, done);
      }
    });
  }

  // Ids in answers join the pool, so later requests use them (stopped pods, removed containers…).
  private learn(res: unknown): void {
    const r = res as { podSandboxId?: string; containerId?: string; imageRef?: string } | undefined;
    for (const id of [r?.podSandboxId, r?.containerId, r?.imageRef]) if (id) this.pool.seen(id);
  }

  private makePool(): FuzzPool & { refresh(): Promise<void>; seen(id: string): void } {
    let ids: string[] = [];
    let images: string[] = [this.busybox];
    const gone: string[] = [];
    const fuzzer = this;
    return {
      dir: this.dir,
      ids: () => ids,
      images: () => images,
      seen: id => { if (!ids.includes(id)) ids = [...ids, id]; },
      async refresh() {
        const pods = await fuzzer.unary<cri.ListPodSandboxResponse>('runtime', 'listPodSandbox', {});
        const ctrs = await fuzzer.unary<cri.ListContainersResponse>('runtime', 'listContainers', {});
        const imgs = await fuzzer.unary<cri.ListImagesResponse>('image', 'listImages', {});
        const live = [...pods.items.map(p => p.id), ...ctrs.containers.map(c => c.id), ...imgs.images.map(i => i.id)];
        for (const id of ids) if (!live.includes(id) && !gone.includes(id)) gone.push(id);
        // Some removed ids stay, for "unknown id" and "wrong state" cases.
        ids = [...live, ...gone.slice(-10)];
        images = [this.images()[0]!, ...imgs.images.flatMap(i => [...i.repoTags, ...i.repoDigests, i.id])];
      },
    };
  }

  private unary<T>(service: 'runtime' | 'image', key: string, req: unknown, timeoutMs = 60_000): Promise<T> {
    const client = (service === 'runtime' ? this.runtime : this.image) as unknown as Record<string, (...a: unknown[]) => unknown>;
    const defs = (service === 'runtime' ? cri.RuntimeServiceDefinition : cri.ImageServiceDefinition).methods as unknown as Record<string, Method>;
    return new Promise((resolve, reject) => {
      client[key]!.call(client, defs[key]!.requestType.fromPartial(req), new grpc.Metadata(), { deadline: Date.now() + timeoutMs },
        (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res)));
    });
  }

  /** A pod with a running, a created and an exited container, so requests meet every state. */
  private async ensureBaseline(): Promise<void> {
    const pods = await this.unary<cri.ListPodSandboxResponse>('runtime', 'listPodSandbox', {});
    const pod = pods.items.find(p => p.id === this.baseline.pod && p.state === cri.PodSandboxState.SANDBOX_READY);
    const images = await this.unary<cri.ListImagesResponse>('image', 'listImages', {});
    if (!images.images.some(i => i.repoTags.includes(this.busybox))) await this.unary('image', 'pullImage', { image: { image: this.busybox } });
    if (!pod) {
      this.baseline.podConfig = podConfig('fuzz-base', { logDirectory: path.join(this.dir, 'logs', 'base') });
      this.baseline.pod = (await this.unary<cri.RunPodSandboxResponse>('runtime', 'runPodSandbox', { config: this.baseline.podConfig })).podSandboxId;
      this.baseline.containers = [];
    }
    const ctrs = await this.unary<cri.ListContainersResponse>('runtime', 'listContainers', { filter: { podSandboxId: this.baseline.pod } });
    const has = (name: string, state: cri.ContainerState): boolean => ctrs.containers.some(c => c.metadata?.name === name && c.state === state);
    const make = async (name: string, script: string, start: boolean): Promise<void> => {
      for (const c of ctrs.containers.filter(x => x.metadata?.name === name)) await this.unary('runtime', 'removeContainer', { containerId: c.id });
      const { containerId } = await this.unary<cri.CreateContainerResponse>('runtime', 'createContainer',
        { podSandboxId: this.baseline.pod, sandboxConfig: this.baseline.podConfig, config: containerConfig(name, this.busybox, script) });
      if (start) await this.unary('runtime', 'startContainer', { containerId });
    };
    if (!has('running', cri.ContainerState.CONTAINER_RUNNING)) await make('running', 'exec sleep 100000', true);
    if (!has('created', cri.ContainerState.CONTAINER_CREATED)) await make('created', 'exec sleep 100000', false);
    if (!has('exited', cri.ContainerState.CONTAINER_EXITED) && !has('exited', cri.ContainerState.CONTAINER_RUNNING)) await make('exited', 'exit 3', true);
    await this.pool.refresh();
  }

  /** Removes every pod but the baseline (and its containers but the baseline ones), then restores the baseline. */
  private async sweep(report: FuzzReport): Promise<void> {
    if (this.daemon.proc.exitCode !== null) return;
    const note = (what: string, err: unknown): void => {
      const e = err as grpc.ServiceError;
      if (e.code !== grpc.status.NOT_FOUND) report.failures.push({ index: report.requests, rpc: `sweep: ${what}`, code: grpc.status[e.code] ?? String(e.code), details: e.details ?? String(err), request: '' });
    };
    const pods = await this.unary<cri.ListPodSandboxResponse>('runtime', 'listPodSandbox', {});
    for (const p of pods.items.filter(x => x.id !== this.baseline.pod)) {
      await this.unary('runtime', 'stopPodSandbox', { podSandboxId: p.id }).catch(err => note(`stop pod ${p.id}`, err));
      await this.unary('runtime', 'removePodSandbox', { podSandboxId: p.id }).catch(err => note(`remove pod ${p.id}`, err));
    }
    const keep = new Set(['running', 'created', 'exited']);
    const ctrs = await this.unary<cri.ListContainersResponse>('runtime', 'listContainers', {});
    for (const c of ctrs.containers.filter(x => !keep.has(x.metadata?.name ?? ''))) {
      await this.unary('runtime', 'removeContainer', { containerId: c.id }).catch(err => note(`remove container ${c.id}`, err));
    }
    await this.ensureBaseline();
  }
}
