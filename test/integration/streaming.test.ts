// Exec, Attach and PortForward as a kubelet (or kubectl through it) uses them: the RPC returns a URL
// on crikit's streaming server and the testkit client connects to it over SPDY/3.1 and WebSocket,
// with real runc containers and a real pod netns.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { cri, type PartialMessage } from '@crikit/api';
import { SandboxStore } from '@crikit/core';
import { createRuntime, type CriRuntime } from '@crikit/server';
import {
  collectSession, connectPortForward, connectSpdyCommand, connectWebSocketCommand, readAll, waitForOutput,
  type RemoteCommandOptions, type RemoteCommandSession, type StreamTransport,
} from '@crikit/testkit';
import { criClient, type CriClient } from '../support/cri-client.js';
import { stopRuntimeAndPods } from '../support/pod-cleanup.js';
import { containerConfig, eventually, logFile, logLines, runContainer } from '../support/container-fixture.js';
import { podTestEnv, type PodTestEnv } from '../support/pod-env.js';
import { podConfig } from '../support/pod-fixture.js';
import { testLogger } from '../support/test-logger.js';

/** Short-lived URLs, so that expiry can be seen without waiting a minute. */
const tokenTtlMs = 10_000;
const transports: readonly StreamTransport[] = ['spdy', 'websocket'];

let env: PodTestEnv;
let runtime: CriRuntime;
let c: CriClient;
let pod: string;
let podCfg: PartialMessage<cri.PodSandboxConfig>;
let logDir: string;
let shell: string;

const connect = (url: string, options: RemoteCommandOptions): Promise<RemoteCommandSession> =>
  (options.transport === 'spdy' ? connectSpdyCommand : connectWebSocketCommand)(url, options);
const code = (e: unknown) => (e as { code: number }).code;
const run = (name: string, script: string, extra: PartialMessage<cri.ContainerConfig> = {}) =>
  runContainer(c, pod, podCfg, containerConfig(name, env.busybox, script, extra));
const sh = async (id: string, script: string) => (await c.runtime.execSync({ containerId: id, cmd: ['/bin/sh', '-c', script], timeout: 10n })).stdout.toString();

async function execUrl(containerId: string, cmd: string[], streams: Partial<Pick<cri.ExecRequest, 'stdin' | 'stdout' | 'stderr' | 'tty'>>): Promise<string> {
  return (await c.runtime.exec({ containerId, cmd, stdout: true, ...streams })).url;
}

before(async () => {
  env = await podTestEnv(83, { streaming: { tokenTtlMs } });
  logDir = path.join(env.dirs.dir, 'pod-logs');
  runtime = createRuntime({ logger: testLogger(), config: env.config });
  await runtime.start(AbortSignal.timeout(60_000));
  c = criClient(runtime.socket);
  await c.image.pullImage({ image: { image: env.busybox } });
  podCfg = podConfig('streams', { logDirectory: logDir });
  pod = (await c.runtime.runPodSandbox({ config: podCfg })).podSandboxId;
  shell = await run('shell', 'exec sleep 100000');
});
after(async () => {
  c?.close();
  await stopRuntimeAndPods(runtime);
  await env?.cleanup();
});

describe('the streaming RPCs check their requests as the kubelet does', () => {
  test('bad requests are refused with the field and reason; unknown ids are NOT_FOUND; stopped containers FAILED_PRECONDITION', async () => {
    await assert.rejects(c.runtime.exec({ containerId: shell, cmd: [], stdout: true }), e => code(e) === status.INVALID_ARGUMENT && /cmd/.test(String(e)));
    await assert.rejects(c.runtime.exec({ containerId: shell, cmd: ['ls'] }), e => code(e) === status.INVALID_ARGUMENT && /stdin, stdout or stderr/.test(String(e)));
    await assert.rejects(c.runtime.exec({ containerId: shell, cmd: ['ls'], tty: true, stdout: true, stderr: true }), e => code(e) === status.INVALID_ARGUMENT && /tty/.test(String(e)));
    await assert.rejects(c.runtime.attach({ containerId: shell }), e => code(e) === status.INVALID_ARGUMENT);
    // The shell was created without stdin: an attach asking for it gets no URL.
    await assert.rejects(c.runtime.attach({ containerId: shell, stdin: true, stdout: true }), e => code(e) === status.FAILED_PRECONDITION && /stdin: .*not created with stdin/.test(String(e)));
    await assert.rejects(c.runtime.exec({ containerId: 'no-such-container', cmd: ['ls'], stdout: true }), e => code(e) === status.NOT_FOUND);
    await assert.rejects(c.runtime.attach({ containerId: 'no-such-container', stdout: true }), e => code(e) === status.NOT_FOUND);
    await assert.rejects(c.runtime.portForward({ podSandboxId: 'no-such-pod', port: [80] }), e => code(e) === status.NOT_FOUND);
    const stopped = await run('stopped', 'exit 0');
    await eventually(async () => ((await c.runtime.containerStatus({ containerId: stopped })).status!.state === cri.ContainerState.CONTAINER_EXITED ? true : undefined), 'exit');
    await assert.rejects(c.runtime.exec({ containerId: stopped, cmd: ['ls'], stdout: true }), e => code(e) === status.FAILED_PRECONDITION);
    await assert.rejects(c.runtime.attach({ containerId: stopped, stdout: true }), e => code(e) === status.FAILED_PRECONDITION);
    await c.runtime.removeContainer({ containerId: stopped });
    const { url } = await c.runtime.exec({ containerId: shell, cmd: ['ls'], stdout: true });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/exec\/[A-Za-z0-9_-]{40,}$/);
  });
});

for (const transport of transports) {
  describe(`exec and attach over ${transport}`, () => {
    test('exec with stdout, stderr and exit code 3', async () => {
      const url = await execUrl(shell, ['/bin/sh', '-c', 'echo out; echo err >&2; exit 3'], { stderr: true });
      const r = await collectSession(await connect(url, { transport, stdout: true, stderr: true }));
      assert.equal(r.stdout.toString(), 'out\n');
      assert.equal(r.stderr.toString(), 'err\n');
      assert.equal(r.exitCode, 3);
      assert.equal(r.status?.reason, 'NonZeroExitCode');
      const ok = await collectSession(await connect(await execUrl(shell, ['/bin/echo', 'fine'], {}), { transport, stdout: true }));
      assert.deepEqual([ok.stdout.toString(), ok.exitCode, ok.status?.status], ['fine\n', 0, 'Success']);
    });

    test('exec with a TTY: a resize is seen inside with stty size', async () => {
      // The shell waits until the terminal has the size the client sent, then prints it.
      const script = 'i=0; while [ "$(busybox stty size)" != "33 101" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; echo size=$(busybox stty size)';
      const url = await execUrl(shell, ['/bin/sh', '-c', script], { tty: true, stdin: true });
      const session = await connect(url, { transport, stdin: true, stdout: true, tty: true });
      session.resize(101, 33);
      const r = await collectSession(session);
      assert.match(r.stdout.toString(), /size=33 101\r?\n/);
      assert.equal(r.exitCode, 0);
    });

    test('exec with piped stdin: closing stdin ends the process\'s input', async () => {
      const url = await execUrl(shell, ['/bin/sh', '-c', 'cat; echo done'], { stdin: true });
      const r = await collectSession(await connect(url, { transport, stdin: true, stdout: true }), 'hello from stdin\n');
      assert.equal(r.stdout.toString(), 'hello from stdin\ndone\n');
      assert.equal(r.exitCode, 0);
    });

    test('attach to a container that echoes its stdin: output reaches the client and the CRI log; detaching leaves it running', async () => {
      const name = `echo-${transport}`;
      const id = await run(name, 'exec cat', { stdin: true });
      const { url } = await c.runtime.attach({ containerId: id, stdin: true, stdout: true, stderr: true });
      const session = await connect(url, { transport, stdin: true, stdout: true, stderr: true });
      session.writeStdin('ping over attach\n');
      await waitForOutput(session.stdout, 'ping over attach\n');
      await eventually(async () => (logLines(logFile(logDir, name)).some(l => l.text === 'ping over attach') ? true : undefined), 'the line in the CRI log');
      session.kill();
      await new Promise(r => setTimeout(r, 200));
      assert.equal((await c.runtime.containerStatus({ containerId: id })).status!.state, cri.ContainerState.CONTAINER_RUNNING);
      // A second client attaches to the same stdin.
      const again = await connect((await c.runtime.attach({ containerId: id, stdin: true, stdout: true })).url, { transport, stdin: true, stdout: true });
      again.writeStdin('second\n');
      await waitForOutput(again.stdout, 'second\n');
      again.kill();
      await c.runtime.removeContainer({ containerId: id });
    });

    test('attach with a TTY: the shell sees the size the client sends', async () => {
      const id = await run(`tty-${transport}`, 'exec /bin/sh', { stdin: true, tty: true });
      const { url } = await c.runtime.attach({ containerId: id, stdin: true, stdout: true, tty: true });
      const session = await connect(url, { transport, stdin: true, stdout: true, tty: true });
      session.resize(77, 21);
      // The resize and the typed line take different paths (ResizePty, the stdin FIFO): the shell polls.
      session.writeStdin('i=0; while [ "$(busybox stty size)" != "21 77" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; echo "rows cols: $(busybox stty size)"\n');
      await waitForOutput(session.stdout, 'rows cols: 21 77');
      session.kill();
      await c.runtime.removeContainer({ containerId: id });
    });

    test('a URL works once: used again it gets 404 and nothing runs', async () => {
      const url = await execUrl(shell, ['/bin/sh', '-c', `echo ran >> /tmp/ran-${transport}`], {});
      await collectSession(await connect(url, { transport, stdout: true }));
      await assert.rejects(connect(url, { transport, stdout: true }), /404/);
      assert.equal(await sh(shell, `cat /tmp/ran-${transport}`), 'ran\n', 'only the first use ran');
    });
  });
}

test('an expired URL gets 404 over either transport, and nothing runs', async () => {
  const urls = await Promise.all(transports.map(t => execUrl(shell, ['/bin/sh', '-c', `echo ran >> /tmp/late-${t}`], {})));
  await new Promise(r => setTimeout(r, tokenTtlMs + 500));
  for (const [i, transport] of transports.entries()) await assert.rejects(connect(urls[i]!, { transport, stdout: true }), /404/);
  assert.equal(await sh(shell, 'cat /tmp/late-* 2>/dev/null; true'), '');
});

describe('port forwarding', () => {
  let hostPod: string;
  let hostPort: number;
  before(async () => {
    await run('httpd', 'mkdir -p /www && echo "hello from the pod" > /www/index.html && exec httpd -f -p 8080 -h /www');
    hostPort = 20000 + (process.pid % 20000);
    const hostCfg = podConfig('hostnet', { linux: { securityContext: { namespaceOptions: { network: cri.NamespaceMode.NODE, pid: cri.NamespaceMode.CONTAINER, ipc: cri.NamespaceMode.POD } } } });
    hostPod = (await c.runtime.runPodSandbox({ config: hostCfg })).podSandboxId;
    await runContainer(c, hostPod, hostCfg, containerConfig('host-httpd', env.busybox,
      `mkdir -p /www && echo "hello from the host network" > /www/index.html && exec httpd -f -p 127.0.0.1:${hostPort} -h /www`,
      { linux: { securityContext: { namespaceOptions: { network: cri.NamespaceMode.NODE, pid: cri.NamespaceMode.CONTAINER, ipc: cri.NamespaceMode.POD } } } }));
    await eventually(async () => (await sh(shell, 'wget -q -O - http://127.0.0.1:8080/ 2>/dev/null || true')).includes('hello') ? true : undefined, 'httpd up');
  });

  async function httpGet(data: import('node:stream').Duplex): Promise<string> {
    data.write('GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n');
    return (await readAll(data)).toString();
  }

  for (const transport of transports) {
    test(`over ${transport}: to busybox httpd in a pod; a port nobody listens on fails on its error stream and the session lives on`, async () => {
      const { url } = await c.runtime.portForward({ podSandboxId: pod, port: [8080] });
      const session = await connectPortForward(url, transport, [8081, 8080]);
      const refused = session.connect(8081);
      assert.match(await refused.error, /8081.*connection refused/);
      const ok = session.connect(8080);
      const body = await httpGet(ok.data);
      assert.match(body, /^HTTP\/1\.[01] 200/);
      assert.match(body, /hello from the pod/);
      assert.equal(await ok.error, '');
      if (transport === 'spdy') {
        // Several connections on one session.
        assert.match(await httpGet(session.connect(8080).data), /hello from the pod/);
      }
      session.close();
    });

    test(`over ${transport}: to a host-network pod`, async () => {
      await eventually(async () => (await sh(shell, 'true'), true), 'ready');
      const { url } = await c.runtime.portForward({ podSandboxId: hostPod, port: [] });
      const session = await connectPortForward(url, transport, [hostPort]);
      const body = await eventually(async () => {
        const b = await httpGet(session.connect(hostPort).data).catch(() => '');
        return b.includes('hello') ? b : undefined;
      }, 'the host-network httpd', 10_000);
      assert.match(body, /hello from the host network/);
      session.close();
    });
  }

  test('no process per connection: one dial helper lives in the pod\'s netns, and it goes when the pod stops', async () => {
    const cfg = podConfig('pf-helper');
    const helperPod = (await c.runtime.runPodSandbox({ config: cfg })).podSandboxId;
    await runContainer(c, helperPod, cfg, containerConfig('httpd', env.busybox, 'mkdir -p /www && echo "helper pod" > /www/index.html && exec httpd -f -p 8080 -h /www'));
    // The namespace's inode: the pin is gone once the pod stops, the namespace lives while a process is in it.
    const netns = fs.statSync(runtime.container.get(SandboxStore).get(helperPod).metadata.netnsPath!).ino;
    const session = await connectPortForward((await c.runtime.portForward({ podSandboxId: helperPod, port: [8080] })).url, 'spdy', [8080]);
    const bodies = await eventually(async () => {
      const all = await Promise.all(Array.from({ length: 5 }, () => httpGet(session.connect(8080).data).catch(() => '')));
      return all.every(b => b.includes('helper pod')) ? all : undefined;
    }, 'five connections through the helper pod');
    assert.equal(bodies.length, 5);
    assert.equal(processesIn(netns).length, 1, 'one helper for all connections');
    assert.match(fs.readFileSync(`/proc/${processesIn(netns)[0]}/cmdline`, 'utf8'), /netns-dial-helper/);
    session.close();
    await c.runtime.stopPodSandbox({ podSandboxId: helperPod });
    await eventually(async () => (processesIn(netns).length === 0 ? true : undefined), 'the helper to leave with the pod');
    await c.runtime.removePodSandbox({ podSandboxId: helperPod });
  });
});

/** Pids of this process's children that live in the network namespace with inode `ino`. */
function processesIn(ino: number): string[] {
  const children = new Set<string>();
  const me = String(process.pid);
  for (const pid of fs.readdirSync('/proc').filter(p => /^\d+$/.test(p))) {
    try {
      const ppid = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1];
      if (ppid !== me) continue;
      if (fs.statSync(`/proc/${pid}/ns/net`).ino === ino) children.add(pid);
    } catch {
      // gone meanwhile
    }
  }
  return [...children];
}

describe('load and misbehaving clients', () => {
  test('50 concurrent exec streams each get their own output', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, async (_, i) => {
      const transport = transports[i % 2]!;
      const url = await execUrl(shell, ['/bin/sh', '-c', `echo stream-${i}; echo err-${i} >&2; exit ${i % 7}`], { stderr: true });
      return { i, r: await collectSession(await connect(url, { transport, stdout: true, stderr: true })) };
    }));
    for (const { i, r } of results) {
      assert.equal(r.stdout.toString(), `stream-${i}\n`);
      assert.equal(r.stderr.toString(), `err-${i}\n`);
      assert.equal(r.exitCode, i % 7);
    }
  });

  for (const transport of transports) {
    test(`over ${transport}: a client killed mid-stream leaves no exec process, FIFO or fd behind`, async () => {
      const fifoDir = path.join(env.config.paths.stateDir, 'containers', shell);
      const fifosBefore = fs.readdirSync(fifoDir);
      const fdsBefore = fs.readdirSync('/proc/self/fd').length;
      const url = await execUrl(shell, ['/bin/sh', '-c', 'echo started; exec sleep 4242'], { stdin: true });
      const session = await connect(url, { transport, stdin: true, stdout: true });
      await waitForOutput(session.stdout, 'started');
      assert.match(await sh(shell, 'ps'), /sleep 4242/);
      session.kill();
      await eventually(async () => (/sleep 4242/.test(await sh(shell, 'ps')) ? undefined : true), 'the exec process to be killed');
      await eventually(async () => (fs.readdirSync(fifoDir).every(f => fifosBefore.includes(f)) ? true : undefined), 'the exec FIFOs to be removed');
      await eventually(async () => (fs.readdirSync('/proc/self/fd').length <= fdsBefore ? true : undefined), `fds back to ${fdsBefore}`);
    });
  }
});
