import assert from 'node:assert/strict';
import { Duplex, PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { cri } from '@crikit/api';
import type { PodRef } from '../contracts/pod-network.js';
import { AlreadyExistsError, FailedPreconditionError, NotFoundError, UnavailableError } from '../errors.js';
import { RuntimeEventBus } from '../events/runtime-events.js';
import type { ContainerId, SandboxId } from '../ids.js';
import { silentLogger } from '../logger.js';
import { FakeContainerManager } from './fake-container-manager.js';
import { FakeContainerStreams } from './fake-container-streams.js';
import { FakeImageService } from './fake-image-service.js';
import { FakeLogSink, FakeLogWriter } from './fake-log-writer.js';
import { FakePodNetwork } from './fake-pod-network.js';
import { FakePortForwarder } from './fake-port-forwarder.js';
import { FakeSandboxManager } from './fake-sandbox-manager.js';
import { FakeStatsCollector } from './fake-stats-collector.js';
import { FakeStreamingServer } from './fake-streaming-server.js';

const signal = new AbortController().signal;
const podRequest = (name = 'web'): cri.RunPodSandboxRequest =>
  cri.RunPodSandboxRequest.fromPartial({ config: { metadata: { name, namespace: 'default', uid: `uid-${name}`, attempt: 0 } } });
const pod = (id: string): PodRef => ({
  id: id as SandboxId, name: 'web', namespace: 'default', uid: 'u', netnsPath: '/var/run/netns/x',
  labels: {}, annotations: {}, portMappings: [], cgroupParent: '',
});

describe('FakeImageService', () => {
  it('pulls into its store, announces it, and fails the next call when told to', async () => {
    const bus = new RuntimeEventBus(silentLogger);
    const pulled: string[] = [];
    bus.events.on('image:pulled', r => pulled.push(r.metadata.id));
    const images = new FakeImageService(undefined, bus);
    images.failNext('pull', new UnavailableError('registry down'));
    await assert.rejects(images.pull('docker.io/library/busybox:latest', {}, signal), UnavailableError);
    const record = await images.pull('docker.io/library/busybox:latest', {}, signal);
    assert.equal((await images.pull('docker.io/library/busybox:latest', {}, signal)).metadata.id, record.metadata.id);
    assert.equal(images.get('docker.io/library/busybox:latest'), images.status(record.metadata.id));
    assert.deepEqual(pulled, [record.metadata.id, record.metadata.id]);
    assert.equal(images.countOf('pull'), 3);
    await images.remove('docker.io/library/busybox:latest', signal);
    await images.remove('docker.io/library/busybox:latest', signal);
    assert.equal(images.find(record.metadata.id), undefined);
  });
});

describe('FakeSandboxManager', () => {
  it('runs, refuses a duplicate name, stops and removes idempotently, and honours failNext', async () => {
    const sandboxes = new FakeSandboxManager();
    const id = await sandboxes.run(podRequest(), signal);
    await assert.rejects(sandboxes.run(podRequest(), signal), AlreadyExistsError);
    await sandboxes.stop(id, signal);
    await sandboxes.stop(id, signal);
    assert.equal((await sandboxes.status(id, {}, signal)).record.status.state, 'notready');
    assert.equal(sandboxes.list(cri.PodSandboxFilter.fromPartial({ state: { state: cri.PodSandboxState.SANDBOX_READY } })).length, 0);
    sandboxes.failNext('remove', new UnavailableError('containerd down'));
    await assert.rejects(sandboxes.remove(id, signal), UnavailableError);
    await sandboxes.remove(id, signal);
    await sandboxes.remove(id, signal);
    await assert.rejects(sandboxes.status(id, {}, signal), NotFoundError);
    assert.deepEqual(sandboxes.calls.map(c => c.method), ['run', 'run', 'stop', 'stop', 'status', 'list', 'remove', 'remove', 'remove', 'status']);
  });
});

describe('FakeContainerManager', () => {
  it('enforces the lifecycle and honours failNext', async () => {
    const containers = new FakeContainerManager();
    const id = await containers.create({ sandboxId: 'a'.repeat(64) as SandboxId, config: cri.ContainerConfig.fromPartial({ metadata: { name: 'app' } }) }, signal);
    await assert.rejects(containers.execSync(id, ['true'], 0, signal), FailedPreconditionError);
    containers.failNext('start', new UnavailableError('task create failed'));
    await assert.rejects(containers.start(id, signal), UnavailableError);
    await containers.start(id, signal);
    await assert.rejects(containers.start(id, signal), FailedPreconditionError);
    assert.equal((await containers.execSync(id, ['true'], 0, signal)).exitCode, 0);
    await containers.reopenLog(id, signal);
    containers.stopExitCode = 143;
    await containers.stop(id, 10, signal);
    const { record } = await containers.status(id, {}, signal);
    assert.equal(record.status.state, 'exited');
    assert.equal(record.status.reason, 'Error');
    await assert.rejects(containers.updateResources(id, cri.UpdateContainerResourcesRequest.fromPartial({}), signal), FailedPreconditionError);
    await containers.remove(id, signal);
    await containers.remove(id, signal);
    assert.equal(containers.list().length, 0);
  });
});

describe('FakePodNetwork', () => {
  it('attaches idempotently, reports status changes, and honours failNext', async () => {
    const network = new FakePodNetwork();
    network.failNext('attach', new UnavailableError('cni not ready'));
    await assert.rejects(network.attach(pod('p1'), signal), UnavailableError);
    const first = await network.attach(pod('p1'), signal);
    assert.equal(await network.attach(pod('p1'), signal), first);
    await network.check(pod('p1'), signal);
    await network.detach(pod('p1'), signal);
    await network.detach(pod('p1'), signal);
    await assert.rejects(network.check(pod('p1'), signal), FailedPreconditionError);
    const conditions: boolean[] = [];
    network.events.on('network:status-changed', c => conditions.push(c.ready));
    network.setStatus({ ready: false, reason: 'NetworkPluginNotReady', message: 'no config' });
    assert.deepEqual(conditions, [false]);
    assert.equal(network.status().reason, 'NetworkPluginNotReady');
    await network.updatePodCidr('10.244.1.0/24', signal);
    assert.equal(network.podCidr, '10.244.1.0/24');
  });
});

describe('FakeLogWriter and FakeLogSink', () => {
  it('collects output until the streams end, and honours failNext', async () => {
    const writer = new FakeLogWriter();
    const id = 'c'.repeat(64) as ContainerId;
    const target = { containerId: id, sandboxId: 's'.repeat(64) as SandboxId, logPath: '/var/log/pods/x/0.log', tty: false };
    writer.failNext('attach', new UnavailableError('cannot open'));
    await assert.rejects(writer.attach(target, {}, signal), UnavailableError);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    await writer.attach(target, { stdout, stderr }, signal);
    await assert.rejects(writer.attach(target, {}, signal), AlreadyExistsError);
    stdout.end('hello\n');
    stderr.end('oops\n');
    await writer.reopen(id, signal);
    await writer.close(id, signal);
    await writer.close(id, signal);
    assert.equal(writer.output(id, 'stdout'), 'hello\n');
    assert.equal(writer.output(id, 'stderr'), 'oops\n');
    await assert.rejects(writer.reopen(id, signal), NotFoundError);
    const sink = new FakeLogSink();
    sink.failNext('write', new Error('sink full'));
    const entry = { containerId: id, sandboxId: target.sandboxId, stream: 'stdout' as const, timestampNs: 1n, partial: false, content: Buffer.from('x') };
    assert.throws(() => sink.write(entry), /sink full/);
    sink.write(entry);
    assert.equal(sink.entries.length, 1);
  });
});

describe('FakeStatsCollector', () => {
  it('answers what it was given, filtered, and honours failNext', async () => {
    const stats = new FakeStatsCollector();
    const sandbox = 'b'.repeat(64) as SandboxId;
    stats.setContainerStats('c1'.padEnd(64, '0') as ContainerId, sandbox);
    stats.setContainerStats('c2'.padEnd(64, '0') as ContainerId, 'z'.repeat(64) as SandboxId);
    stats.setPodSandboxStats(sandbox);
    assert.equal((await stats.listContainerStats(cri.ContainerStatsFilter.fromPartial({ podSandboxId: 'bbb' }), signal)).length, 1);
    assert.equal((await stats.listContainerStats(undefined, signal)).length, 2);
    assert.equal((await stats.podSandboxStats(sandbox, signal)).attributes?.id, sandbox);
    await assert.rejects(stats.containerStats('nope' as ContainerId, signal), NotFoundError);
    stats.failNext('listPodSandboxStats', new UnavailableError('down'));
    await assert.rejects(stats.listPodSandboxStats(undefined, signal), UnavailableError);
    assert.equal((await stats.listPodSandboxStats(undefined, signal)).length, 1);
  });
});

describe('FakeStreamingServer, FakeContainerStreams, FakePortForwarder', () => {
  it('hand out URLs, run canned sessions, and honour failNext', async () => {
    const server = new FakeStreamingServer();
    const containerId = 'c'.repeat(64) as ContainerId;
    const exec = { ...cri.ExecRequest.fromPartial({ cmd: ['sh'], stdout: true }), containerId };
    assert.equal(server.getExecUrl(exec), 'http://127.0.0.1:10010/exec/token-1');
    assert.throws(() => server.getAttachUrl({ ...cri.AttachRequest.fromPartial({ tty: true, stderr: true }), containerId }), /tty and stderr/);
    server.failNext('getPortForwardUrl', new UnavailableError('not serving'));
    const forward = { ...cri.PortForwardRequest.fromPartial({ port: [80] }), podSandboxId: 's'.repeat(64) as SandboxId };
    assert.throws(() => server.getPortForwardUrl(forward), UnavailableError);
    assert.equal(server.getPortForwardUrl(forward), 'http://127.0.0.1:10010/portforward/token-2');

    const streams = new FakeContainerStreams();
    streams.execResult = { stdout: 'out', exitCode: 3 };
    const stdout = new PassThrough();
    assert.equal(await streams.exec(containerId, ['sh'], { stdout, tty: false }, signal), 3);
    assert.equal(stdout.read()?.toString(), 'out');
    streams.failNext('attach', new FailedPreconditionError('not running'));
    await assert.rejects(streams.attach(containerId, { tty: false }, signal), FailedPreconditionError);

    const forwarder = new FakePortForwarder();
    // A socket-like duplex: what the forwarder writes goes to `echoed`, not back into its readable side.
    const echoed: Buffer[] = [];
    const stream = new Duplex({ read() {}, write(chunk: Buffer, _encoding, callback) { echoed.push(chunk); callback(); } });
    const done = forwarder.portForward('s'.repeat(64) as SandboxId, 80, stream, signal);
    stream.push('ping');
    stream.push(null);
    await done;
    assert.equal(Buffer.concat(echoed).toString(), 'ping');
    forwarder.failNext('portForward', new UnavailableError('nothing listens'));
    await assert.rejects(forwarder.portForward('s'.repeat(64) as SandboxId, 81, new PassThrough(), signal), UnavailableError);
  });
});
