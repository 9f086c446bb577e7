// End to end: crikit on real containerd with HttpLogSink bound as its LogSink; a container's output,
// run through the CRI socket, reaches the loopback collector line by line.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { cri } from '@crikit/api';
import { LogSink } from '@crikit/core';
import { createRuntime, type CriRuntime } from '@crikit/server';
import type { LocalRegistry } from '@crikit/testkit';
import { criClient } from './cri-client.js';
import { HttpLogSink } from './http-log-sink.js';
import { startCollector, type TestCollector } from './test-collector.js';
import { plainHttpHost, registryWithImages, testDirs } from './test-node.js';

const dirs = testDirs();
let registry: LocalRegistry;
let collector: TestCollector;
let sink: HttpLogSink;
let runtime: CriRuntime;
let client: ReturnType<typeof criClient>;

before(async () => {
  registry = await registryWithImages();
  plainHttpHost(dirs.hostsDir, registry.host, registry.url);
  collector = await startCollector();
  sink = new HttpLogSink({ url: collector.url });
  runtime = createRuntime({ config: { ...dirs.config, sandbox: { sandboxImage: `${registry.host}/pause:3.10` } } });
  runtime.container.rebind(LogSink).toConstantValue(sink);
  await runtime.start(AbortSignal.timeout(60_000));
  client = criClient(runtime.socket);
});

after(async () => {
  client?.close();
  await runtime?.stop(AbortSignal.timeout(20_000));
  await collector?.close();
  await registry?.stop();
  dirs.cleanup();
});

test('every line a container writes reaches the collector, tagged with its container, pod and stream', async () => {
  // A host-network pod: no pod network is needed to show the log path.
  const config = {
    metadata: { name: 'talker', namespace: 'example', uid: `uid-talker-${process.pid}`, attempt: 0 },
    logDirectory: path.join(dirs.dir, 'logs', 'talker'),
    linux: { securityContext: { namespaceOptions: { network: cri.NamespaceMode.NODE, pid: cri.NamespaceMode.CONTAINER, ipc: cri.NamespaceMode.POD } } },
  };
  await client.pull(`${registry.host}/busybox:1`);
  const { podSandboxId } = await client.runPod(config);
  const { containerId } = await client.createContainer(podSandboxId, config, {
    metadata: { name: 'talk', attempt: 0 },
    image: { image: `${registry.host}/busybox:1` },
    command: ['/bin/sh', '-c', 'echo one; echo two >&2; echo three; echo "{\\"json\\": true}"'],
    logPath: 'talk.log',
  });
  await client.startContainer(containerId);
  // CRI: an exited container's output is fully logged before its exit is reported.
  const deadline = Date.now() + 20_000;
  while ((await client.containerStatus(containerId)).status?.state !== cri.ContainerState.CONTAINER_EXITED) {
    assert.ok(Date.now() < deadline, 'the container did not exit');
    await new Promise(resolve => setTimeout(resolve, 100));
  }
  await sink.idle();

  const mine = collector.lines.filter(l => l.containerId === containerId);
  assert.ok(mine.every(l => l.sandboxId === podSandboxId && !l.partial));
  assert.deepEqual(mine.filter(l => l.stream === 'stdout').map(l => l.log), ['one', 'three', '{"json": true}']);
  assert.deepEqual(mine.filter(l => l.stream === 'stderr').map(l => l.log), ['two']);
  assert.deepEqual(sink.stats(), { written: 4, sent: 4, dropped: 0, failed: 0 });

  await client.stopPod(podSandboxId);
  await client.removePod(podSandboxId);
});
