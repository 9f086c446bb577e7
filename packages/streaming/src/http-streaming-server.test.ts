// The streaming server with fake ContainerStreams and PortForwarder, driven by raw WebSocket and
// SPDY clients, over real loopback sockets.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, describe, it } from 'node:test';
import WebSocket from 'ws';
import { InvalidArgumentError, silentLogger, UnavailableError, type ContainerId, type SandboxId } from '@crikit/core';
import { FakeContainerStreams, FakePortForwarder } from '@crikit/core/testing';
import { HttpStreamingServer } from './http-streaming-server.js';
import { streamingConfigSchema, type StreamingConfig } from './streaming-config.js';
import { SpdySession } from './spdy/spdy-session.js';
import type { SpdyStream } from './spdy/spdy-stream.js';

const servers: HttpStreamingServer[] = [];
after(async () => { for (const s of servers) await s.stop(); });

async function started(config: Partial<StreamingConfig> = {}) {
  const streams = new FakeContainerStreams();
  const forwarder = new FakePortForwarder();
  const server = new HttpStreamingServer(streamingConfigSchema.parse(config), streams, forwarder, silentLogger);
  servers.push(server);
  await server.start(AbortSignal.timeout(10_000));
  return { server, streams, forwarder };
}
const exec = (cmd = ['sh', '-c', 'x'], extra: object = {}) =>
  ({ containerId: 'c1' as ContainerId, cmd, stdin: false, stdout: true, stderr: true, tty: false, ...extra });

/** Collects a WebSocket session's messages by channel until the server closes it. */
function wsSession(url: string, protocols: string[], options: WebSocket.ClientOptions = {}): Promise<{ protocol: string; channels: Map<number, string[]> }> {
  const ws = new WebSocket(url.replace(/^http/, 'ws'), protocols, options);
  const channels = new Map<number, string[]>();
  ws.on('message', (data: Buffer, binary: boolean) => {
    const ch = binary ? data[0]! : data[0]! - 48;
    const text = binary ? data.subarray(1).toString() : Buffer.from(data.subarray(1).toString(), 'base64').toString();
    channels.set(ch, [...(channels.get(ch) ?? []), text]);
  });
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('close', () => resolve({ protocol: ws.protocol, channels }));
  });
}

/** Upgrades to SPDY/3.1 offering `protocols`; rejects with the status of a refusal. */
function spdy(url: string, protocols: string[]): Promise<{ session: SpdySession; protocol: string }> {
  const req = http.request(url, { method: 'POST', headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': protocols } });
  return new Promise((resolve, reject) => {
    req.once('upgrade', (res, socket, head) => resolve({ session: new SpdySession(socket, 'client', head), protocol: String(res.headers['x-stream-protocol-version']) }));
    req.once('response', res => { res.resume(); reject(new Error(`status ${res.statusCode}`)); });
    req.once('error', reject);
    req.end();
  });
}
const text = (s: SpdyStream) => new Promise<string>(resolve => { let t = ''; s.on('data', (c: Buffer) => { t += c; }); s.once('end', () => resolve(t)); });

describe('HttpStreamingServer', () => {
  it('refuses requests the kubelet refuses, and hands out URLs only while serving', async () => {
    const idle = new HttpStreamingServer(streamingConfigSchema.parse({}), new FakeContainerStreams(), new FakePortForwarder(), silentLogger);
    assert.throws(() => idle.getExecUrl(exec()), UnavailableError);
    const { server } = await started();
    assert.throws(() => server.getExecUrl(exec([])), InvalidArgumentError);
    assert.throws(() => server.getExecUrl(exec(['ls'], { stdout: false, stderr: false })), InvalidArgumentError);
    assert.throws(() => server.getAttachUrl({ containerId: 'c1' as ContainerId, stdin: false, stdout: true, stderr: true, tty: true }), InvalidArgumentError);
    assert.match(server.getPortForwardUrl({ podSandboxId: 'p' as SandboxId, port: [80] }), /^http:\/\/127\.0\.0\.1:\d+\/portforward\/[\w-]{43}$/);
  });

  it('WebSocket v4: output on channels 1 and 2, the exit status JSON on channel 3; the URL then gets 404', async () => {
    const { server, streams } = await started();
    streams.execResult = { stdout: 'out', stderr: 'err', exitCode: 3 };
    const url = server.getExecUrl(exec());
    const { protocol, channels } = await wsSession(url, ['v4.channel.k8s.io']);
    assert.equal(protocol, 'v4.channel.k8s.io');
    assert.deepEqual(channels.get(1), ['', 'out'], 'an empty message opens the lowest output channel');
    assert.deepEqual(channels.get(2), ['err']);
    const status = JSON.parse(channels.get(3)!.join(''));
    assert.deepEqual([status.status, status.reason, status.details.causes[0]], ['Failure', 'NonZeroExitCode', { reason: 'ExitCode', message: '3' }]);
    await assert.rejects(wsSession(url, ['v4.channel.k8s.io']), /404/);
    const plain = await fetch(url);
    assert.equal(plain.status, 404);
  });

  it('WebSocket base64.channel.k8s.io: text messages, channel digit then base64; no status on success', async () => {
    const { server, streams } = await started();
    streams.execResult = { stdout: 'hello', exitCode: 0 };
    const { protocol, channels } = await wsSession(server.getExecUrl(exec()), ['base64.channel.k8s.io']);
    assert.equal(protocol, 'base64.channel.k8s.io');
    assert.deepEqual(channels.get(1), ['', 'hello']);
    assert.equal(channels.get(3), undefined);
  });

  it('SPDY v4: streams matched by streamType, the status on the error stream, then GOAWAY', async () => {
    const { server, streams } = await started();
    streams.execResult = { stdout: 'out', stderr: 'err', exitCode: 0 };
    const { session, protocol } = await spdy(server.getExecUrl(exec()), ['v4.channel.k8s.io', 'v3.channel.k8s.io']);
    assert.equal(protocol, 'v4.channel.k8s.io');
    const [error, stdout, stderr] = ['error', 'stdout', 'stderr'].map(t => session.openStream({ streamType: t }));
    const goAway = new Promise(r => session.once('goAway', r));
    assert.deepEqual(await Promise.all([text(stdout!), text(stderr!), text(error!)]), ['out', 'err', '{"metadata":{},"status":"Success"}']);
    assert.equal(await session.ping().then(() => 'pong', () => 'closed'), 'pong');
    await goAway;
    session.destroy();
    assert.equal(streams.countOf('exec'), 1);
  });

  it('SPDY: a protocol the server does not speak gets 403; an upgrade to something else 400', async () => {
    const { server } = await started();
    await assert.rejects(spdy(server.getExecUrl(exec()), ['v9.channel.k8s.io']), /status 403/);
    const res = await new Promise<http.IncomingMessage>(resolve => {
      http.request(server.getExecUrl(exec()), { headers: { Connection: 'Upgrade', Upgrade: 'h2c' } }).once('response', resolve).once('upgrade', resolve).end();
    });
    assert.equal(res.statusCode, 400);
  });

  it('port forwarding over SPDY: a data and an error stream per request id, bytes go both ways', async () => {
    const { server, forwarder } = await started();
    const { session } = await spdy(server.getPortForwardUrl({ podSandboxId: 'p1' as SandboxId, port: [] }), ['portforward.k8s.io']);
    const error = session.openStream({ streamtype: 'error', port: '80', requestid: '0' });
    const data = session.openStream({ streamtype: 'data', port: '80', requestid: '0' });
    data.end('ping');
    assert.equal(await text(data), 'ping');
    assert.equal(await text(error), '');
    assert.deepEqual(forwarder.argsOf('portForward').map(a => a.slice(0, 2)), [['p1', 80]]);
    session.destroy();
  });

  it('serves wss with a self-signed certificate when tls is set', async () => {
    const { server, streams } = await started({ tls: true });
    streams.execResult = { stdout: 'secret', exitCode: 0 };
    const url = server.getExecUrl(exec());
    assert.match(url, /^https:/);
    const { channels } = await wsSession(url, ['v4.channel.k8s.io'], { rejectUnauthorized: false });
    assert.deepEqual(channels.get(1), ['', 'secret']);
  });

  it('closes a connection that stays idle for idleTimeoutMs', async () => {
    const { server } = await started({ idleTimeoutMs: 300 });
    const url = new URL(server.getPortForwardUrl({ podSandboxId: 'p1' as SandboxId, port: [80] }).replace(/^http/, 'ws'));
    const closed = await wsSession(url.toString(), ['v4.channel.k8s.io']);
    assert.deepEqual(closed.channels.get(0), ['P\u0000'], 'port 80 announced, then nothing until the idle timeout');
  });
});

describe('HttpStreamingServer and misbehaving clients', () => {
  it('a WebSocket client sending a broken frame loses its session; the server serves the next one', async () => {
    const { server, streams } = await started();
    const url = new URL(server.getAttachUrl({ containerId: 'c1' as ContainerId, stdin: true, stdout: true, stderr: false, tty: false }));
    const net = await import('node:net');
    const socket = net.connect(Number(url.port), url.hostname);
    await new Promise(r => socket.once('connect', r));
    socket.write(`GET ${url.pathname} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n`
      + 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n');
    await new Promise(r => socket.once('data', r));
    // An unmasked client frame with a reserved opcode: a protocol error.
    socket.write(Buffer.from([0x83, 0x00]));
    await new Promise(r => socket.once('close', r));
    streams.execResult = { stdout: 'still here', exitCode: 0 };
    const { channels } = await wsSession(server.getExecUrl(exec()), ['v4.channel.k8s.io']);
    assert.deepEqual(channels.get(1), ['', 'still here']);
  });
});
