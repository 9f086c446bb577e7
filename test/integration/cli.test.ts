// The `crikit` bin in a real pseudo-terminal (tmux), against crikitd with a managed containerd, the local
// registry and a pod on network 90: what an operator sees is what is asserted. `crikit pull` and
// `crikit import` are in crikit-images.test.ts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { startCrikitd, type RunningCrikitd } from '../support/crikitd.js';
import { podTestEnv, type PodTestEnv } from '../support/pod-env.js';
import { podConfig } from '../support/pod-fixture.js';
import { containerConfig, runContainer } from '../support/container-fixture.js';
import { stopDaemonAndPods } from '../support/pod-cleanup.js';
import { TmuxTerminal } from '../support/tmux.js';

const crikitMain = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../packages/cli/dist/main.js');
const term = new TmuxTerminal();
let env: PodTestEnv;
let daemon: RunningCrikitd;
const crikit = (...args: string[]): string => term.start([process.execPath, crikitMain, '--runtime-endpoint', daemon.socket, ...args]);

before(async () => {
  env = await podTestEnv(90);
  daemon = await startCrikitd(env.config, env.dirs.dir);
});

after(async () => {
  term.close();
  await stopDaemonAndPods(daemon);
  await env?.cleanup();
});

describe('crikit CLI in a terminal', () => {
  test('doctor names the gaps /proc and /sys show on this host and exits 0 when only optional ones are missing', async () => {
    const w = term.start([process.execPath, crikitMain, 'doctor']);
    const { screen } = await term.waitFor(w, /\[exit \d+\]/);
    assert.match(screen, /^ok +containerd +\S+containerd v?1\.\d+/m);
    assert.match(screen, /^ok +runtime runc +\S+runc, features answers/m);
    assert.match(screen, /^ok +cni plugins +bridge, host-local, loopback, portmap in /m);
    // What this host lacks, read independently of the doctor.
    const bnd = BigInt(`0x${/^CapBnd:\s*(\w+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]}`);
    if ((bnd & (1n << 24n)) === 0n) {
      assert.match(screen, /^missing +capabilities +bounding set lacks CAP_SYS_RESOURCE$/m);
      assert.match(screen.replace(/\n/g, ''), /fix: .*runtimes\.restrictOomScoreAdj = true/);   // the line wraps at 160 columns
    } else {
      assert.match(screen, /^ok +capabilities +full bounding set/m);
    }
    const apparmor = '/sys/module/apparmor/parameters/enabled';
    if (!fs.existsSync(apparmor) || fs.readFileSync(apparmor, 'utf8').trim() !== 'Y') {
      assert.match(screen, /^missing +apparmor +(not in this kernel|disabled)/m);
      assert.match(screen, /fix: apt-get install apparmor/);
    }
    assert.match(screen, /\[exit (0|1)\]/);
    const requiredMissing = Number(/(\d+) required missing/.exec(screen)![1]);
    assert.match(screen, new RegExp(`\\[exit ${requiredMissing > 0 ? 1 : 0}\\]`));
  });

  test('events prints a line per container event until Ctrl-C', async () => {
    const w = crikit('events');
    await term.waitFor(w, /following container events/);
    await daemon.client.image.pullImage({ image: { image: env.busybox } });
    const sandboxConfig = podConfig('cli-events');
    const { podSandboxId } = await daemon.client.runtime.runPodSandbox({ config: sandboxConfig });
    const containerId = await runContainer(daemon.client, podSandboxId, sandboxConfig, containerConfig('ticker', env.busybox, 'sleep 300'));
    const short = containerId.slice(0, 13);
    await term.waitFor(w, new RegExp(`started +${short} +container=ticker +pod=crikit-test/cli-events +state=running`));
    await daemon.client.runtime.stopContainer({ containerId, timeout: 1n });
    await daemon.client.runtime.removeContainer({ containerId });
    const { screen } = await term.waitFor(w, new RegExp(`deleted +${short}`));
    const lines = screen.split('\n').filter(l => l.includes(short)).map(l => l.split(/\s+/)[1]);
    assert.deepEqual(lines, ['created', 'started', 'stopped', 'deleted']);
    await daemon.client.runtime.stopPodSandbox({ podSandboxId });
    await daemon.client.runtime.removePodSandbox({ podSandboxId });
    term.sendKeys(w, 'C-c');
    assert.match((await term.waitFor(w, /\[exit \d+\]/)).screen, /\[exit 0\]/);
  });
});
