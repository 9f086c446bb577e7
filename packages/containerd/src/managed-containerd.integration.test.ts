import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { cri } from '@crikit/api';
import { errorKind, FailedPreconditionError, silentLogger, UnavailableError } from '@crikit/core';
import { containerdConfigSchema, type ContainerdConfig } from './containerd-config.js';
import { GrpcContainerdClient } from './grpc-containerd-client.js';
import { ManagedContainerd, type ManagedContainerdOptions } from './managed-containerd.js';

// Every instance and temp dir is stopped and removed at the end, even when a test fails.
const dirs: string[] = [];
const instances: ManagedContainerd[] = [];
after(async () => {
  await Promise.all(instances.map(m => m.stop(AbortSignal.timeout(15_000))));
  await Promise.all(dirs.map(dir => rm(dir, { recursive: true, force: true })));
}, { timeout: 30_000 });

/** A config on a fresh short temp dir (unix socket paths are limited to 107 bytes). */
async function privateConfig(managed: Record<string, unknown> = {}): Promise<ContainerdConfig> {
  const dir = await mkdtemp('/tmp/ctd-');
  dirs.push(dir);
  return containerdConfigSchema.parse({
    namespace: 'crikit-test',
    managed: { rootDir: `${dir}/root`, stateDir: `${dir}/state`, startTimeoutMs: 20_000, stopTimeoutMs: 5_000, ...managed },
  });
}

function managedContainerd(config: ContainerdConfig, options?: ManagedContainerdOptions): ManagedContainerd {
  const managed = new ManagedContainerd(config, silentLogger, options);
  instances.push(managed);
  return managed;
}

/** True while a process with this pid exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(condition: () => boolean, signal: AbortSignal): Promise<void> {
  while (!condition()) {
    signal.throwIfAborted();
    await new Promise(resolve => setTimeout(resolve, 20));
  }
}

/** A fake containerd binary: a shell script. */
async function fakeBinary(config: ContainerdConfig, script: string): Promise<string> {
  const path = `${config.managed.rootDir}-fake.sh`;
  await writeFile(path, `#!/bin/sh\n${script}\n`);
  await chmod(path, 0o755);
  return path;
}

// A test runner that times a file out sends SIGTERM, which skips 'exit' handlers by default; exiting here runs
// them, so ManagedContainerd's last-resort SIGKILL reaches containerd.
process.once('SIGTERM', () => process.exit(143));

const bounded = { timeout: 60_000 };

describe('ManagedContainerd', () => {
  it('starts containerd without its CRI plugin, and stop leaves no process and no socket', bounded, async () => {
    const config = await privateConfig();
    const managed = managedContainerd(config);
    // Concurrent starts share one launch; a start while running is a no-op.
    await Promise.all([managed.start(AbortSignal.timeout(30_000)), managed.start(AbortSignal.timeout(30_000))]);
    const pid = managed.pid;
    assert.ok(pid !== undefined && alive(pid));
    await managed.start(AbortSignal.timeout(30_000));
    assert.equal(managed.pid, pid);
    assert.ok(existsSync(managed.address));
    assert.match(await readFile(managed.configPath, 'utf8'), /disabled_plugins = \[.*"io\.containerd\.grpc\.v1\.cri"/);

    const client = new GrpcContainerdClient(config, { socketPath: managed.address }, silentLogger);
    try {
      const { plugins } = await client.introspection.plugins({ filters: ['type==io.containerd.grpc.v1'] });
      const ids = plugins.map(p => p.id);
      assert.ok(ids.includes('content') && ids.includes('tasks'), ids.join(','));
      assert.ok(!ids.includes('cri'), 'containerd\'s own CRI plugin must be off');
    } finally {
      client.close();
    }

    await managed.stop(AbortSignal.timeout(15_000));
    await managed.stop(AbortSignal.timeout(15_000));
    assert.equal(managed.pid, undefined);
    assert.equal(alive(pid), false);
    assert.equal(existsSync(managed.address), false);
    assert.equal(existsSync(`${managed.address}.ttrpc`), false);
  });

  it('adopts the containerd an earlier (killed) crikit left running, and stops it', bounded, async () => {
    const config = await privateConfig();
    // `first` stands for a crikit that was SIGKILLed: it must not restart the containerd `second` stops.
    const first = managedContainerd(config, { restartDelayMs: 60_000 });
    await first.start(AbortSignal.timeout(30_000));
    const pid = first.pid!;
    const second = managedContainerd(config);
    await second.start(AbortSignal.timeout(30_000));
    assert.equal(second.pid, pid, 'the running containerd was adopted, not a new one spawned');
    await second.stop(AbortSignal.timeout(15_000));
    await first.stop(AbortSignal.timeout(15_000));
    assert.equal(alive(pid), false);
    assert.equal(existsSync(second.address), false);
  });

  it('refuses to start a second containerd on a socket that answers and is not its own', bounded, async () => {
    const config = await privateConfig();
    const first = managedContainerd(config);
    await first.start(AbortSignal.timeout(30_000));
    await rm(`${config.managed.stateDir}/containerd.pid`);
    await assert.rejects(managedContainerd(config).start(AbortSignal.timeout(30_000)), FailedPreconditionError);
    assert.ok(first.pid !== undefined && alive(first.pid));
    await first.stop(AbortSignal.timeout(15_000));
  });

  it('after SIGKILL calls fail fast with UnavailableError, and containerd is restarted under the same client', bounded, async () => {
    const config = await privateConfig();
    // A restart delay long enough that the calls below surely meet a containerd that is down.
    const managed = managedContainerd(config, { restartDelayMs: 3_000 });
    await managed.start(AbortSignal.timeout(30_000));
    const client = new GrpcContainerdClient(config, { socketPath: managed.address }, silentLogger);
    try {
      await client.start(AbortSignal.timeout(10_000));
      await client.containers.list({});

      const pid = managed.pid!;
      process.kill(pid, 'SIGKILL');
      await until(() => !alive(pid), AbortSignal.timeout(10_000));

      // A long deadline: failing with UnavailableError, not DeadlineExceededError, shows the call did not wait.
      for (let i = 0; i < 3; i++) {
        await assert.rejects(client.version.version({}, { timeoutMs: 30_000 }), (err: unknown) => {
          assert.equal(errorKind(err), 'unavailable', String(err));
          return true;
        });
      }
      assert.equal(await client.isHealthy(AbortSignal.timeout(5_000)), false);

      await until(() => managed.pid !== undefined && managed.pid !== pid, AbortSignal.timeout(20_000));
      await client.waitReady(AbortSignal.timeout(20_000));
      assert.deepEqual((await client.containers.list({})).containers, []);
      assert.equal(await client.isHealthy(AbortSignal.timeout(5_000)), true);
      await managed.stop(AbortSignal.timeout(15_000));
      await new Promise(r => setTimeout(r, 3_500));
      assert.equal(managed.pid, undefined, 'a stopped containerd is not restarted');
    } finally {
      client.close();
    }
  });

  it('enables containerd\'s own CRI plugin on request, serving CRI on the same socket', bounded, async () => {
    const config = await privateConfig();
    const base = config.managed.rootDir;
    await mkdir(`${base}-cni-conf`, { recursive: true });
    const managed = managedContainerd(config, {
      plugins: {
        'io.containerd.grpc.v1.cri': {
          cni: { bin_dir: `${base}-cni-bin`, conf_dir: `${base}-cni-conf` },
          registry: { config_path: `${base}-certs.d` },
        },
      },
    });
    await managed.start(AbortSignal.timeout(30_000));
    assert.match(await readFile(managed.configPath, 'utf8'), /^\[plugins\."io\.containerd\.grpc\.v1\.cri"[\].]/m);

    const raw = new grpc.Client(`unix://${managed.address}`, grpc.credentials.createInsecure());
    try {
      const version = await new Promise<cri.VersionResponse>((resolve, reject) => {
        raw.makeUnaryRequest('/runtime.v1.RuntimeService/Version',
          (req: cri.VersionRequest) => Buffer.from(cri.VersionRequest.encode(req).finish()),
          (bytes: Buffer) => cri.VersionResponse.decode(bytes),
          cri.VersionRequest.fromPartial({ version: 'v1' }), new grpc.Metadata(), { deadline: Date.now() + 10_000 },
          (err, res) => (err ? reject(err) : resolve(res!)));
      });
      assert.equal(version.runtimeName, 'containerd');
      assert.equal(version.runtimeApiVersion, 'v1');
    } finally {
      raw.close();
    }
    await managed.stop(AbortSignal.timeout(15_000));
  });

  it('says to install containerd when the binary is missing', bounded, async () => {
    const config = await privateConfig({ binary: 'containerd-not-installed-here' });
    await assert.rejects(managedContainerd(config).start(AbortSignal.timeout(10_000)), (err: unknown) => {
      assert.ok(err instanceof UnavailableError);
      assert.match(err.message, /"containerd-not-installed-here" not found; install containerd/);
      return true;
    });
  });

  it('reports the last log lines when containerd exits during start-up', bounded, async () => {
    const config = await privateConfig();
    const binary = await fakeBinary(config, 'echo "level=fatal msg=\\"bad config\\"" >&2\nexit 3');
    const managed = managedContainerd(containerdConfigSchema.parse({ ...config, managed: { ...config.managed, binary } }));
    await assert.rejects(managed.start(AbortSignal.timeout(10_000)), (err: unknown) => {
      assert.ok(err instanceof UnavailableError);
      assert.match(err.message, /exited \(code 3\) during start-up; its last log lines:\nlevel=fatal msg="bad config"/);
      return true;
    });
    assert.equal(managed.pid, undefined);
  });

  it('gives up after startTimeoutMs and kills what it started', bounded, async () => {
    const config = await privateConfig({ startTimeoutMs: 500, stopTimeoutMs: 500 });
    // Ignores SIGTERM, so stop has to escalate to SIGKILL.
    const binary = await fakeBinary(config, 'trap "" TERM\necho waiting >&2\nwhile true; do sleep 1; done');
    const managed = managedContainerd(containerdConfigSchema.parse({ ...config, managed: { ...config.managed, binary } }));
    const started = managed.start(AbortSignal.timeout(30_000));
    await until(() => managed.pid !== undefined, AbortSignal.timeout(10_000));
    const pid = managed.pid!;
    await assert.rejects(started, (err: unknown) => {
      assert.ok(err instanceof UnavailableError);
      assert.match(err.message, /did not answer on ".*containerd\.sock" within 500 ms; its last log lines:\nwaiting/);
      return true;
    });
    assert.equal(alive(pid), false);
    assert.equal(managed.pid, undefined);
  });
});
