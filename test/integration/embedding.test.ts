// An embedder rebinds one service before start and sees it answer through the CRI socket.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { injectable } from 'inversify';
import { EventEmitter } from 'eventemitter3';
import { PodNetwork, UnimplementedError, type NetworkCondition, type PodNetworkEvents, type PodNetworkResult } from '@crikit/core';
import { createRuntime, type CriRuntime } from '@crikit/server';
import { criClient, type CriClient } from '../support/cri-client.js';
import { tempRuntimeDirs } from '../support/crikitd.js';

/** A non-CNI network backend, as an embedder would bind one. */
@injectable()
class StaticPodNetwork implements PodNetwork {
  readonly events = new EventEmitter<PodNetworkEvents>();
  status(): NetworkCondition { return { ready: true, reason: '', message: 'static network by the embedder' }; }
  async attach(): Promise<PodNetworkResult> { throw new UnimplementedError('static network attaches nothing'); }
  async detach(): Promise<void> {}
  async check(): Promise<void> {}
  async updatePodCidr(): Promise<void> {}
}

const dirs = tempRuntimeDirs();
let runtime: CriRuntime;
let client: CriClient;

before(async () => {
  runtime = createRuntime({ config: dirs.config });
  runtime.container.rebind(PodNetwork).to(StaticPodNetwork).inSingletonScope();
  await runtime.start(AbortSignal.timeout(60_000));
  client = criClient(runtime.socket);
});
after(async () => {
  client?.close();
  await runtime?.stop(AbortSignal.timeout(20_000));
  dirs.cleanup();
});

test('Status reports the rebound network backend, not CNI', async () => {
  const s = await client.runtime.status({ verbose: true });
  const network = s.status!.conditions.find(c => c.type === 'NetworkReady')!;
  assert.equal(network.status, true, 'the empty CNI conf dir would say not ready');
  assert.equal(JSON.parse(s.info.network!).message, 'static network by the embedder');
  assert.equal(s.status!.conditions.find(c => c.type === 'RuntimeReady')!.status, true);
});
