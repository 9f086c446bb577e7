// Exec and Attach through the URLs the CRI socket returns, driven by an independent WebSocket
// remote-command client: @kubernetes/client-node's Exec and Attach (what a Node program uses for
// `kubectl exec`). Its WebSocketHandler opens the socket, offers its own subprotocols and frames
// every byte; the only thing done here is to swap the kube-apiserver path it builds for the CRI
// URL's path, as the kubelet's proxy does.
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { Attach, Exec, KubeConfig, type V1Status } from '@kubernetes/client-node';
// Not re-exported by the package's index; the package has no exports map, so its own module is reachable.
import { WebSocketHandler, type WebSocketInterface } from '@kubernetes/client-node/dist/web-socket-handler.js';
import { cri, type PartialMessage } from '@crikit/api';
import { createRuntime, type CriRuntime } from '@crikit/server';
import { readAll, waitForOutput } from '@crikit/testkit';
import { criClient, type CriClient } from '../support/cri-client.js';
import { stopRuntimeAndPods } from '../support/pod-cleanup.js';
import { containerConfig, runContainer } from '../support/container-fixture.js';
import { podTestEnv, type PodTestEnv } from '../support/pod-env.js';
import { podConfig } from '../support/pod-fixture.js';
import { testLogger } from '../support/test-logger.js';

let env: PodTestEnv;
let runtime: CriRuntime;
let c: CriClient;
let pod: string;
let podCfg: PartialMessage<cri.PodSandboxConfig>;
let shell: string;

const run = (name: string, script: string, extra: PartialMessage<cri.ContainerConfig> = {}) =>
  runContainer(c, pod, podCfg, containerConfig(name, env.busybox, script, extra));

/**
 * The library's own WebSocketHandler, aimed at a CRI streaming URL: it connects to its cluster's
 * server followed by the path it is given, so the server is the URL's origin and the path is the
 * URL's path followed by the query the library built.
 */
function handlerFor(url: string): WebSocketInterface {
  const target = new URL(url);
  const kc = new KubeConfig();
  // The library refuses plain http unless TLS verification is off; the URL is http on 127.0.0.1.
  kc.loadFromOptions({
    clusters: [{ name: 'crikit', server: target.origin, skipTLSVerify: true }],
    users: [{ name: 'nobody' }],
    contexts: [{ name: 'crikit', cluster: 'crikit', user: 'nobody' }],
    currentContext: 'crikit',
  });
  const handler = new WebSocketHandler(kc);
  return { connect: (path, text, binary) => handler.connect(`${target.pathname}${path.slice(path.indexOf('?'))}`, text, binary) };
}

/** What a session through the library left: its output, the status it got, the protocol chosen. */
interface LibraryExec {
  stdout: string;
  stderr: string;
  status: V1Status | undefined;
  protocol: string;
}

/** Runs `cmd` through the library's Exec on the URL of a CRI Exec with the same streams. */
async function libraryExec(cmd: string[], opts: { stdin?: Readable; stderr?: boolean; tty?: PassThrough }): Promise<LibraryExec> {
  const { url } = await c.runtime.exec({ containerId: shell, cmd, stdout: true, stderr: Boolean(opts.stderr), stdin: Boolean(opts.stdin), tty: Boolean(opts.tty) });
  const stdout = opts.tty ?? new PassThrough();
  const stderr = opts.stderr ? new PassThrough() : null;
  const out = readAll(stdout);
  const err = stderr ? readAll(stderr) : Promise.resolve(Buffer.alloc(0));
  let status: V1Status | undefined;
  const ws = await new Exec(new KubeConfig(), handlerFor(url))
    .exec('default', 'pod', 'c', cmd, stdout, stderr, opts.stdin ?? null, Boolean(opts.tty), s => { status = s; });
  await new Promise(resolve => ws.once('close', resolve));
  return { stdout: (await out).toString(), stderr: (await err).toString(), status, protocol: ws.protocol };
}

/** A stdout the library takes for a terminal: it sends `rows`/`columns` now and on each 'resize'. */
function terminal(columns: number, rows: number): PassThrough & { columns: number; rows: number } {
  return Object.assign(new PassThrough(), { columns, rows });
}

before(async () => {
  env = await podTestEnv(91);
  runtime = createRuntime({ logger: testLogger(), config: env.config });
  await runtime.start(AbortSignal.timeout(60_000));
  c = criClient(runtime.socket);
  await c.image.pullImage({ image: { image: env.busybox } });
  podCfg = podConfig('independent');
  pod = (await c.runtime.runPodSandbox({ config: podCfg })).podSandboxId;
  shell = await run('shell', 'exec sleep 100000');
});
after(async () => {
  c?.close();
  await stopRuntimeAndPods(runtime);
  await env?.cleanup();
});

describe('@kubernetes/client-node Exec on the CRI Exec URL', () => {
  test('stdout, stderr and exit code 3 in the v5 status', async () => {
    const r = await libraryExec(['/bin/sh', '-c', 'echo out; echo err >&2; exit 3'], { stderr: true });
    assert.equal(r.protocol, 'v5.channel.k8s.io');
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    assert.equal(r.status?.status, 'Failure');
    assert.equal(r.status?.reason, 'NonZeroExitCode');
    assert.deepEqual(r.status?.details?.causes, [{ reason: 'ExitCode', message: '3' }]);
    const ok = await libraryExec(['/bin/echo', 'fine'], {});
    assert.deepEqual([ok.stdout, ok.status?.status], ['fine\n', 'Success']);
  });

  test('piped stdin: the library\'s v5 close signal ends the process\'s input', async () => {
    const r = await libraryExec(['/bin/sh', '-c', 'cat; echo done'], { stdin: Readable.from([Buffer.from('hello from client-node\n')]) });
    assert.equal(r.stdout, 'hello from client-node\ndone\n');
    assert.equal(r.status?.status, 'Success');
  });

  test('TTY: the size the library sends at start, then on a resize event, is seen inside', async () => {
    const tty = terminal(80, 24);
    const stdin = new PassThrough();
    // The shell prints the first size it sees, then waits for the resized one.
    const script = 'i=0; while [ "$(busybox stty size)" != "24 80" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; echo first=$(busybox stty size); '
      + 'i=0; while [ "$(busybox stty size)" != "33 101" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; echo then=$(busybox stty size)';
    const running = libraryExec(['/bin/sh', '-c', script], { stdin, tty });
    await waitForOutput(tty, 'first=24 80');
    tty.columns = 101;
    tty.rows = 33;
    tty.emit('resize');
    const r = await running;
    assert.match(r.stdout, /then=33 101\r?\n/);
    assert.equal(r.status?.status, 'Success');
    stdin.end();
  });
});

describe('@kubernetes/client-node Attach on the CRI Attach URL', () => {
  test('a container that echoes its stdin: the library\'s input comes back on stdout; detaching leaves it running', async () => {
    const id = await run('echo', 'exec cat', { stdin: true });
    const { url } = await c.runtime.attach({ containerId: id, stdin: true, stdout: true, stderr: true });
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const ws = await new Attach(new KubeConfig(), handlerFor(url)).attach('default', 'pod', 'echo', stdout, new PassThrough(), stdin, false);
    assert.equal(ws.protocol, 'v5.channel.k8s.io');
    stdin.write('ping through client-node\n');
    await waitForOutput(stdout, 'ping through client-node\n');
    ws.close();
    await new Promise(resolve => ws.once('close', resolve));
    await new Promise(r => setTimeout(r, 200));
    assert.equal((await c.runtime.containerStatus({ containerId: id })).status!.state, cri.ContainerState.CONTAINER_RUNNING);
    await c.runtime.removeContainer({ containerId: id });
  });
});
