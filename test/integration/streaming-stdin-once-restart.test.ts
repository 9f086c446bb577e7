// CRI stdin_once across a crikitd restart: a container created with stdin and stdin_once gives its
// stdin to the first attach only. Once that attach closed it, a second attach asking for stdin is
// refused at the Attach RPC, before and after crikitd is killed and started again; a container with
// plain stdin keeps taking input after the restart.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { cri } from '@crikit/api';
import { connectWebSocketCommand, waitForOutput } from '@crikit/testkit';
import { startCrikitd, type RunningCrikitd } from '../support/crikitd.js';
import type { CriClient } from '../support/cri-client.js';
import { stopDaemonAndPods } from '../support/pod-cleanup.js';
import { containerConfig, eventually, logFile, logLines, runContainer } from '../support/container-fixture.js';
import { podTestEnv, type PodTestEnv } from '../support/pod-env.js';
import { podConfig } from '../support/pod-fixture.js';

let env: PodTestEnv | undefined;
let daemon: RunningCrikitd | undefined;

after(async () => {
  await stopDaemonAndPods(daemon);
  await env?.cleanup();
});

const code = (e: unknown) => (e as { code: number }).code;
const refusedStdin = (e: unknown) => code(e) === status.FAILED_PRECONDITION && /stdin: .*stdin_once/.test(String(e));

/** Attaches with stdin over WebSocket, sends `line`, and waits for the container to echo it. */
async function attachAndEcho(c: CriClient, containerId: string, line: string, closeStdin: boolean): Promise<void> {
  const { url } = await c.runtime.attach({ containerId, stdin: true, stdout: true });
  const session = await connectWebSocketCommand(url, { transport: 'websocket', stdin: true, stdout: true });
  session.writeStdin(`${line}\n`);
  await waitForOutput(session.stdout, `${line}\n`);
  if (closeStdin) session.closeStdin();
  session.kill();
}

test('stdin_once: the first attach\'s stdin is the only one, also after crikitd restarts', async () => {
  env = await podTestEnv(92);
  const { config, dirs, busybox: image } = env;
  const logDir = path.join(dirs.dir, 'pod-logs');
  daemon = await startCrikitd(config, dirs.dir);
  const c = daemon.client;
  await c.image.pullImage({ image: { image } });
  const podCfg = podConfig('stdin-once', { logDirectory: logDir });
  const pod = (await c.runtime.runPodSandbox({ config: podCfg })).podSandboxId;
  // `cat` echoes stdin until EOF; the container then says so and keeps running.
  const once = await runContainer(c, pod, podCfg, containerConfig('once', image, 'cat; echo stdin closed; exec sleep 100000', { stdin: true, stdinOnce: true }));
  const keep = await runContainer(c, pod, podCfg, containerConfig('keep', image, 'exec cat', { stdin: true }));

  await attachAndEcho(c, once, 'first and only', true);
  await eventually(async () => (logLines(logFile(logDir, 'once')).some(l => l.text === 'stdin closed') ? true : undefined), 'cat to see EOF');
  await assert.rejects(c.runtime.attach({ containerId: once, stdin: true, stdout: true }), refusedStdin);
  await attachAndEcho(c, keep, 'before the restart', false);

  daemon.proc.kill('SIGKILL');
  await daemon.exited;
  daemon.client.close();
  daemon = await startCrikitd(config, dirs.dir);
  const c2 = daemon.client;

  assert.equal((await c2.runtime.containerStatus({ containerId: once })).status!.state, cri.ContainerState.CONTAINER_RUNNING);
  await assert.rejects(c2.runtime.attach({ containerId: once, stdin: true, stdout: true }), refusedStdin);
  // Output only is still offered.
  assert.match((await c2.runtime.attach({ containerId: once, stdout: true })).url, /\/attach\//);
  // A plain stdin container was not affected: input still reaches it after the restart.
  await attachAndEcho(c2, keep, 'after the restart', false);
  assert.deepEqual(logLines(logFile(logDir, 'once')).map(l => l.text), ['first and only', 'stdin closed']);

  await c2.runtime.removePodSandbox({ podSandboxId: pod });
});
