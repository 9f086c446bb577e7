// Stats and metrics as a kubelet reads them: real containers on real cgroups (v1 here), through the
// CRI socket, checked against what the containers did (burn CPU, fill /dev/shm, write files, talk
// to another pod), and crikit's own /metrics.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { cri, type PartialMessage } from '@crikit/api';
import { createRuntime, type CriRuntime } from '@crikit/server';
import { criClient, type CriClient } from '../support/cri-client.js';
import { stopRuntimeAndPods, removeTestCgroups } from '../support/pod-cleanup.js';
import { containerConfig, eventually, runContainer } from '../support/container-fixture.js';
import { podTestEnv, type PodTestEnv } from '../support/pod-env.js';
import { podConfig } from '../support/pod-fixture.js';
import { testLogger } from '../support/test-logger.js';

const MiB = 1024n * 1024n;
let env: PodTestEnv;
let runtime: CriRuntime;
let c: CriClient;
let metricsAddress: string;
/** Two pods, each in a cgroup parent of its own (as the kubelet gives every pod), so pod figures are theirs alone. */
const pods: Record<'a' | 'b', { id: string; config: PartialMessage<cri.PodSandboxConfig>; parent: string }> = {} as never;

function podWithOwnCgroup(name: string) {
  const parent = `/crikit-test/stats-${name}-${process.pid}`;
  const config = podConfig(name, {
    linux: { cgroupParent: parent, securityContext: { namespaceOptions: { network: cri.NamespaceMode.POD, pid: cri.NamespaceMode.CONTAINER, ipc: cri.NamespaceMode.POD } } },
  });
  return { config, parent };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise(resolve => server.close(resolve));
  return port;
}

before(async () => {
  metricsAddress = `127.0.0.1:${await freePort()}`;
  env = await podTestEnv(81, {
    metrics: { address: metricsAddress, writableLayerCacheMs: 0 },
    sandbox: { shmSizeBytes: 96 * 1024 * 1024 },
  });
  runtime = createRuntime({ logger: testLogger(), config: env.config });
  await runtime.start(AbortSignal.timeout(60_000));
  c = criClient(runtime.socket);
  await c.image.pullImage({ image: { image: env.busybox } });
  for (const name of ['a', 'b'] as const) {
    const { config, parent } = podWithOwnCgroup(`stats-${name}`);
    pods[name] = { id: (await c.runtime.runPodSandbox({ config })).podSandboxId, config, parent };
  }
});
after(async () => {
  c?.close();
  await stopRuntimeAndPods(runtime);
  // runc made the pods' parents under every controller; nobody else removes them in tests.
  for (const pod of Object.values(pods)) {
    for (const controller of fs.existsSync('/sys/fs/cgroup') ? fs.readdirSync('/sys/fs/cgroup') : []) {
      try { fs.rmdirSync(path.join('/sys/fs/cgroup', controller, pod.parent)); } catch { /* not made there, or already gone */ }
    }
  }
  removeTestCgroups();
  await env?.cleanup();
});

const run = (pod: 'a' | 'b', name: string, script: string) =>
  runContainer(c, pods[pod].id, pods[pod].config, containerConfig(name, env.busybox, script, { labels: { container: name, suite: 'stats' } }));
const statsOf = async (id: string) => (await c.runtime.containerStats({ containerId: id })).stats!;
const podStatsOf = async (pod: 'a' | 'b') => (await c.runtime.podSandboxStats({ podSandboxId: pods[pod].id })).stats!.linux!;
/** Waits out the stats cache window (metrics.statsCacheMs, 1 s by default), so the next call samples anew. */
const nextWindow = () => new Promise(resolve => setTimeout(resolve, 1_100));
const u = (v: cri.UInt64Value | undefined) => v?.value ?? -1n;

describe('container stats', () => {
  test('a busy container: cpu usage rises between samples and usage_nano_cores is about one core', async () => {
    const id = await run('a', 'busy', 'while :; do :; done');
    const first = await statsOf(id);
    await nextWindow();
    const second = await statsOf(id);
    assert.ok(u(second.cpu?.usageCoreNanoSeconds) > u(first.cpu?.usageCoreNanoSeconds), 'cumulative cpu rises');
    assert.ok(second.cpu!.timestamp > first.cpu!.timestamp);
    const cores = Number(u(second.cpu?.usageNanoCores)) / 1e9;
    // One busy shell loop can use one core at most; on a shared 2-core machine it gets most of one.
    assert.ok(cores > 0.5 && cores < 1.3, `usage_nano_cores ${cores} cores`);
    assert.ok(u(second.memory?.workingSetBytes) > 0n);
    await c.runtime.stopContainer({ containerId: id, timeout: 0n });
    await c.runtime.removeContainer({ containerId: id });
  });

  test('64 MiB written to /dev/shm shows in the working set of the container and of its pod', async () => {
    const id = await run('a', 'shm', 'head -c 67108864 /dev/zero > /dev/shm/fill && touch /tmp/filled; exec sleep 1000');
    await eventually(async () => ((await c.runtime.execSync({ containerId: id, cmd: ['/bin/test', '-e', '/tmp/filled'], timeout: 5n })).exitCode === 0 ? true : undefined), 'shm filled');
    await nextWindow();
    const memory = (await statsOf(id)).memory!;
    assert.ok(u(memory.workingSetBytes) >= 64n * MiB, `container working set ${u(memory.workingSetBytes)}`);
    assert.ok(u(memory.usageBytes) >= u(memory.workingSetBytes));
    const pod = await podStatsOf('a');
    assert.ok(u(pod.memory?.workingSetBytes) >= 64n * MiB, `pod working set ${u(pod.memory?.workingSetBytes)}`);
    assert.ok(u(pod.process?.processCount) >= 1n);
    assert.ok(pod.containers.some(x => x.attributes?.id === id));
    await c.runtime.stopContainer({ containerId: id, timeout: 0n });
    await c.runtime.removeContainer({ containerId: id });
  });

  test('writing a file grows the writable layer', async () => {
    const id = await run('a', 'writer', 'exec sleep 1000');
    const before = (await statsOf(id)).writableLayer!;
    assert.ok(before.fsId!.mountpoint.endsWith('overlayfs'), before.fsId!.mountpoint);
    await c.runtime.execSync({ containerId: id, cmd: ['/bin/sh', '-c', 'head -c 8388608 /dev/zero > /big'], timeout: 20n });
    // A stale figure is answered at once and measured again in the background (metrics.writableLayerCacheMs is 0 here).
    const grown = await eventually(async () => {
      const layer = (await statsOf(id)).writableLayer!;
      return u(layer.usedBytes) - u(before.usedBytes) >= 8n * MiB ? layer : undefined;
    }, 'the writable layer to grow by 8 MiB', 10_000);
    assert.ok(u(grown.inodesUsed) > u(before.inodesUsed));
    // ImageFsInfo reports the same snapshotter filesystem; container layers live on it, so, as containerd's
    // CRI, no separate container filesystem is reported (the kubelet then uses the image filesystem).
    const imageFs = await c.image.imageFsInfo({});
    assert.equal(imageFs.imageFilesystems[0]?.fsId?.mountpoint, grown.fsId!.mountpoint);
    assert.ok(u(imageFs.imageFilesystems[0]?.usedBytes) > 0n && u(imageFs.imageFilesystems[0]?.inodesUsed) > 0n);
    assert.deepEqual(imageFs.containerFilesystems, []);
    await c.runtime.stopContainer({ containerId: id, timeout: 0n });
    await c.runtime.removeContainer({ containerId: id });
  });

  test('a created container that never started is listed with empty figures; filters select containers', async () => {
    const { containerId: idle } = await c.runtime.createContainer({
      podSandboxId: pods.b.id, sandboxConfig: pods.b.config,
      config: containerConfig('idle', env.busybox, 'exit 0', { labels: { container: 'idle', suite: 'stats' } }),
    });
    const sleeper = await run('a', 'sleeper', 'exec sleep 1000');
    const listed = (await c.runtime.listContainerStats({ filter: { id: idle } })).stats;
    assert.deepEqual(listed.map(s => s.attributes?.id), [idle]);
    assert.equal(listed[0]!.cpu, undefined);
    assert.equal(listed[0]!.memory, undefined);
    assert.equal(u(listed[0]!.writableLayer?.usedBytes) >= 0n, true);
    const ids = async (filter: PartialMessage<cri.ContainerStatsFilter>) => (await c.runtime.listContainerStats({ filter })).stats.map(s => s.attributes!.id).sort();
    assert.deepEqual(await ids({ podSandboxId: pods.b.id }), [idle]);
    assert.deepEqual(await ids({ podSandboxId: pods.a.id.slice(0, 10), labelSelector: { container: 'sleeper' } }), [sleeper]);
    assert.deepEqual(await ids({ labelSelector: { suite: 'stats' } }), [idle, sleeper].sort());
    assert.deepEqual(await ids({ id: sleeper.slice(0, 12) }), [sleeper]);
    const streamed: cri.ContainerStats[] = [];
    const stream = c.raw.runtime.streamContainerStats(cri.StreamContainerStatsRequest.fromPartial({ filter: { labelSelector: { suite: 'stats' } } }));
    for await (const page of stream as AsyncIterable<cri.StreamContainerStatsResponse>) streamed.push(...page.containerStats);
    assert.deepEqual(streamed.map(s => s.attributes!.id).sort(), [idle, sleeper].sort());
    await assert.rejects(c.runtime.containerStats({ containerId: 'no-such-container' }), (e: { code: number }) => e.code === status.NOT_FOUND);
    for (const id of [idle, sleeper]) await c.runtime.removeContainer({ containerId: id });
  });
});

describe('pod stats and metrics', () => {
  test('traffic between two pods shows in both pods\' network bytes and in the cAdvisor metrics', async () => {
    const ipB = (await c.runtime.podSandboxStatus({ podSandboxId: pods.b.id })).status!.network!.ip;
    const server = await run('b', 'web', 'mkdir -p /www && head -c 4194304 /dev/zero > /www/big && exec httpd -f -p 8080 -h /www');
    const client = await run('a', 'client', 'exec sleep 1000');
    const before = { a: (await podStatsOf('a')).network!, b: (await podStatsOf('b')).network! };
    assert.equal(before.a.defaultInterface?.name, 'eth0');
    assert.deepEqual(before.a.interfaces.map(i => i.name), ['eth0'], 'loopback is left out');
    const sent = 4n * MiB;
    // Pod a fetches 4 MiB from pod b's web server (retried until it listens): b's eth0 sends them, a's receives them.
    await eventually(async () => {
      const r = await c.runtime.execSync({ containerId: client, cmd: ['/bin/wget', '-q', '-O', '/dev/null', `http://${ipB}:8080/big`], timeout: 20n });
      return r.exitCode === 0 ? true : undefined;
    }, 'the download');
    await nextWindow();
    const after = { a: (await podStatsOf('a')).network!, b: (await podStatsOf('b')).network! };
    assert.ok(u(after.b.defaultInterface!.txBytes) - u(before.b.defaultInterface!.txBytes) >= sent, 'pod b sent them');
    assert.ok(u(after.a.defaultInterface!.rxBytes) - u(before.a.defaultInterface!.rxBytes) >= sent, 'pod a received them');
    assert.equal(u(after.a.defaultInterface!.rxErrors), 0n);

    const metrics = (await c.runtime.listPodSandboxMetrics({})).podMetrics;
    const podB = metrics.find(m => m.podSandboxId === pods.b.id)!;
    const tx = podB.metrics.find(m => m.name === 'container_network_transmit_bytes_total' && m.labelValues.at(-1) === 'eth0')!;
    assert.ok(tx.value!.value >= sent);
    assert.equal(tx.metricType, cri.MetricType.COUNTER);
    const descriptors = (await c.runtime.listMetricDescriptors({})).descriptors;
    const keys = new Map(descriptors.map(d => [d.name, d.labelKeys]));
    for (const m of [...podB.metrics, ...podB.containerMetrics.flatMap(x => x.metrics)]) {
      assert.equal(m.labelValues.length, keys.get(m.name)?.length, `${m.name} has a descriptor with as many label keys`);
    }
    const webMetrics = podB.containerMetrics.find(x => x.containerId === server)!.metrics;
    assert.ok(webMetrics.some(m => m.name === 'container_memory_working_set_bytes' && m.value!.value > 0n));
    const listed = (await c.runtime.listPodSandboxStats({ filter: { labelSelector: { app: 'stats-b' } } })).stats;
    assert.deepEqual(listed.map(s => s.attributes!.id), [pods.b.id]);
    for (const id of [server, client]) {
      await c.runtime.stopContainer({ containerId: id, timeout: 0n });
      await c.runtime.removeContainer({ containerId: id });
    }
  });

  test('/metrics: after some calls, their latency histograms and counts by code', async () => {
    await c.runtime.listContainerStats({});
    await c.runtime.listPodSandboxStats({});
    await c.runtime.containerStats({ containerId: 'no-such-container' }).catch(() => {});
    const text = await (await fetch(`http://${metricsAddress}/metrics`)).text();
    assert.match(text, /^crikit_grpc_request_duration_seconds_bucket\{le="0\.1",rpc="ListContainerStats"\} [1-9]\d*$/m);
    assert.match(text, /^crikit_grpc_request_duration_seconds_count\{rpc="ListPodSandboxStats"\} [1-9]\d*$/m);
    assert.match(text, /^crikit_grpc_requests_total\{rpc="ContainerStats",code="NOT_FOUND"\} [1-9]\d*$/m);
    assert.match(text, /^crikit_image_pull_duration_seconds_count [1-9]\d*$/m);
    assert.match(text, /^crikit_sandboxes\{state="ready"\} 2$/m);
    assert.match(text, /^crikit_cni_plugin_duration_seconds_count\{plugin="bridge",command="ADD"\} [2-9]\d*$/m);
    assert.match(text, /^process_resident_memory_bytes [1-9]/m);
  });
});
