import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { after, afterEach, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { content, events, version } from '@crikit/api';
import {
  CancelledError, DeadlineExceededError, errorKind, FailedPreconditionError, InvalidArgumentError, NotFoundError, silentLogger,
  UnavailableError,
} from '@crikit/core';
import { containerdConfigSchema } from './containerd-config.js';
import { GrpcContainerdClient } from './grpc-containerd-client.js';

/**
 * A scripted containerd: Version, Events.Subscribe and Content.Write on a unix socket, recording the
 * namespace header of every call and whether streams were cancelled.
 */
class FakeContainerd {
  readonly namespaces: string[] = [];
  readonly leases: string[] = [];
  versionBehaviour: 'answer' | 'hang' | 'not-found' = 'answer';
  subscribeCancelled = 0;
  /** While false, Write does not read what the client sends. */
  readWrites = true;
  /** Every Write request received, decoded by the generated code. */
  readonly writes: content.WriteContentRequest[] = [];
  private readonly server = new grpc.Server();
  private readonly resumeWrites: Array<() => void> = [];

  constructor() {
    this.server.addService(version.VersionService, {
      version: (call: grpc.ServerUnaryCall<unknown, version.VersionResponse>, callback: grpc.sendUnaryData<version.VersionResponse>) => {
        this.record(call.metadata);
        if (this.versionBehaviour === 'answer') callback(null, version.VersionResponse.fromPartial({ version: '1.6.20' }));
        if (this.versionBehaviour === 'not-found') callback({ code: grpc.status.NOT_FOUND, details: 'version "x": not found' });
      },
    });
    this.server.addService(events.EventsService, {
      subscribe: (call: grpc.ServerWritableStream<unknown, unknown>) => {
        this.record(call.metadata);
        let n = 0;
        const timer = setInterval(() => call.write({ topic: `/test/${n++}`, namespace: 'x', event: undefined }), 10);
        call.on('cancelled', () => { clearInterval(timer); this.subscribeCancelled++; });
      },
    } as unknown as grpc.UntypedServiceImplementation);
    this.server.addService(content.ContentService, {
      write: (call: grpc.ServerDuplexStream<content.WriteContentRequest, content.WriteContentResponse>) => {
        this.record(call.metadata);
        let offset = 0n;
        const onData = (req: content.WriteContentRequest): void => {
          this.writes.push(req);
          offset += BigInt(req.data.length);
          call.write(content.WriteContentResponse.fromPartial({ action: req.action, offset }));
        };
        const start = (): void => { call.on('data', onData); };
        if (this.readWrites) start(); else this.resumeWrites.push(start);
        call.on('end', () => call.end());
      },
    } as unknown as grpc.UntypedServiceImplementation);
  }

  listen(socketPath: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync(`unix://${socketPath}`, grpc.ServerCredentials.createInsecure(), err => (err ? reject(err) : resolve()));
    });
  }

  /** Lets paused Write calls read again. */
  resume(): void {
    this.readWrites = true;
    for (const start of this.resumeWrites.splice(0)) start();
  }

  close(): void {
    this.server.forceShutdown();
  }

  private record(metadata: grpc.Metadata): void {
    this.namespaces.push(String(metadata.get('containerd-namespace')[0]));
    this.leases.push(metadata.get('containerd-lease').map(String).join(','));
  }
}

const config = containerdConfigSchema.parse({ address: '/unused', namespace: 'crikit-unit' });
let dir: string;
let fake: FakeContainerd;
let client: GrpcContainerdClient;

before(async () => {
  dir = await mkdtemp('/tmp/ctd-unit-');
  fake = new FakeContainerd();
  await fake.listen(`${dir}/fake.sock`);
  client = new GrpcContainerdClient(config, { socketPath: `${dir}/fake.sock` }, silentLogger);
});
afterEach(() => { fake.versionBehaviour = 'answer'; });
after(async () => {
  client.close();
  fake.close();
  await rm(dir, { recursive: true, force: true });
});

const bounded = { timeout: 20_000 };

describe('GrpcContainerdClient (against a fake containerd)', () => {
  it('puts the namespace header on unary, streaming and bidi calls', bounded, async () => {
    fake.namespaces.length = 0;
    await client.version.version({});
    for await (const _ of client.events.subscribe({})) break;
    const write = client.content.write();
    await write.send({ ref: 'x', data: Buffer.from('abc') });
    write.end();
    write.end();
    await assert.rejects(write.send({ ref: 'x' }), FailedPreconditionError);
    for await (const _ of write.responses);
    assert.deepEqual(fake.namespaces, ['crikit-unit', 'crikit-unit', 'crikit-unit']);
    assert.equal(client.namespace, 'crikit-unit');
  });

  it('puts the lease header on calls that name a lease, and only on those', bounded, async () => {
    fake.leases.length = 0;
    await client.version.version({}, { lease: 'pull-1' });
    await client.version.version({});
    for await (const _ of client.events.subscribe({}, { lease: 'pull-2' })) break;
    const write = client.content.write({ lease: 'pull-3' });
    await write.send({ ref: 'x' });
    write.end();
    for await (const _ of write.responses);
    assert.deepEqual(fake.leases, ['pull-1', '', 'pull-2', 'pull-3']);
  });

  it('maps a status from containerd', bounded, async () => {
    fake.versionBehaviour = 'not-found';
    await assert.rejects(client.version.version({}), (err: unknown) => {
      assert.ok(err instanceof NotFoundError);
      assert.equal(err.message, 'containerd version.version: version "x": not found');
      return true;
    });
  });

  it('cancels a unary call in flight when its signal fires', bounded, async () => {
    fake.versionBehaviour = 'hang';
    const controller = new AbortController();
    const pending = client.version.version({}, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(pending, CancelledError);
    await assert.rejects(client.version.version({}, { signal: AbortSignal.timeout(50) }), DeadlineExceededError);
  });

  it('sets a gRPC deadline from timeoutMs', bounded, async () => {
    fake.versionBehaviour = 'hang';
    await assert.rejects(client.version.version({}, { timeoutMs: 50 }), DeadlineExceededError);
  });

  it('cancels a server stream when the consumer breaks out of its loop', bounded, async () => {
    const before = fake.subscribeCancelled;
    const topics: string[] = [];
    for await (const envelope of client.events.subscribe({})) {
      topics.push(envelope.topic);
      if (topics.length === 3) break;
    }
    assert.deepEqual(topics, ['/test/0', '/test/1', '/test/2']);
    while (fake.subscribeCancelled === before) await new Promise(resolve => setTimeout(resolve, 10));
  });

  it('ends a server stream with CancelledError when its signal fires', bounded, async () => {
    const controller = new AbortController();
    let seen = 0;
    await assert.rejects(async () => {
      for await (const _ of client.events.subscribe({}, { signal: controller.signal })) if (++seen === 2) controller.abort();
    }, CancelledError);
  });

  it('makes send() wait while containerd does not read (back-pressure)', bounded, async () => {
    fake.readWrites = false;
    const write = client.content.write();
    const chunk = Buffer.alloc(1 << 20, 1);
    const total = 32;
    let sent = 0;
    const pump = (async () => {
      for (let i = 0; i < total; i++) {
        await write.send({ action: content.WriteAction.WRITE, ref: 'bp', data: chunk });
        sent++;
      }
    })();
    // Let the pump run until the transport's buffers are full.
    let last = -1;
    while (sent !== last) {
      last = sent;
      await new Promise(resolve => setTimeout(resolve, 200));
    }
    assert.ok(sent < total, `all ${total} MiB were accepted without the server reading`);
    fake.resume();
    await pump;
    assert.equal(sent, total);
    write.end();
    let offset = 0n;
    for await (const res of write.responses) offset = res.offset;
    assert.equal(offset, BigInt(total << 20));
  });

  it('sends content writes as containerd decodes them (write-content-request.ts), and refuses one it cannot encode', bounded, async () => {
    fake.writes.length = 0;
    const write = client.content.write();
    const sent = [
      { action: content.WriteAction.STAT, ref: 'enc', total: 300_000n, expected: `sha256:${'0'.repeat(64)}` },
      { action: content.WriteAction.WRITE, ref: 'enc', data: Buffer.alloc(200_000, 7) },
      { action: content.WriteAction.WRITE, ref: 'enc', offset: 200_000n, data: Buffer.alloc(100_000, 8) },
      { action: content.WriteAction.COMMIT, ref: 'enc', total: 300_000n, offset: 300_000n, labels: { 'containerd.io/gc.ref': 'x' } },
    ];
    for (const req of sent) await write.send(req);
    await assert.rejects(write.send({ action: content.WriteAction.WRITE, offset: 1n << 64n }), InvalidArgumentError);
    write.end();
    for await (const _ of write.responses);
    assert.deepEqual(fake.writes, sent.map(req => content.WriteContentRequest.fromPartial(req)));
  });

  it('fails fast with UnavailableError when nothing listens, and waitReady names the socket', bounded, async () => {
    const nowhere = new GrpcContainerdClient(config, { socketPath: `${dir}/nothing.sock` }, silentLogger);
    try {
      await assert.rejects(nowhere.version.version({}, { timeoutMs: 30_000 }), (err: unknown) => {
        assert.equal(errorKind(err), 'unavailable');
        return true;
      });
      await assert.rejects(nowhere.waitReady(AbortSignal.timeout(300)), (err: unknown) => {
        assert.ok(err instanceof UnavailableError);
        assert.match(err.message, new RegExp(`^wait for containerd on "${dir}/nothing\\.sock": `));
        return true;
      });
      assert.equal(await nowhere.isHealthy(AbortSignal.timeout(1_000)), false);
    } finally {
      nowhere.close();
    }
  });

  it('waitReady resolves once containerd starts listening', bounded, async () => {
    const late = new FakeContainerd();
    const socketPath = `${dir}/late.sock`;
    const waiting = new GrpcContainerdClient(config, { socketPath }, silentLogger);
    try {
      setTimeout(() => void late.listen(socketPath), 300);
      await waiting.waitReady(AbortSignal.timeout(10_000));
      assert.equal(await waiting.isHealthy(AbortSignal.timeout(1_000)), true);
    } finally {
      waiting.close();
      late.close();
    }
  });
});

describe('GrpcContainerdClient reconnects', () => {
  it('tells the RuntimeObserver when the channel is ready again after containerd came back', bounded, async () => {
    const socketPath = `${dir}/restarting.sock`;
    let reconnects = 0;
    const observer = { cniPluginFinished: () => {}, containerdReconnected: () => { reconnects++; } };
    const first = new FakeContainerd();
    await first.listen(socketPath);
    const watched = new GrpcContainerdClient(config, { socketPath }, silentLogger, observer);
    try {
      await watched.version.version({});
      assert.equal(reconnects, 0, 'the first connection is not a reconnect');
      first.close();
      await rm(socketPath, { force: true });
      await assert.rejects(watched.version.version({}, { timeoutMs: 2_000 }));
      const second = new FakeContainerd();
      await second.listen(socketPath);
      try {
        await watched.waitReady(AbortSignal.timeout(10_000));
        await new Promise(resolve => setTimeout(resolve, 50));
        assert.equal(reconnects, 1);
      } finally {
        second.close();
      }
    } finally {
      watched.close();
    }
  });
});
