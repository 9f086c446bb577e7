import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { Container } from 'inversify';
import { ContainerdClient, Logger, silentLogger, Startable } from '@crikit/core';
import { ContainerdConfig, containerdConfigSchema } from './containerd-config.js';
import { containerdModule } from './containerd-module.js';
import { ManagedContainerd } from './managed-containerd.js';

// A test runner that times a file out sends SIGTERM; exiting runs ManagedContainerd's last-resort SIGKILL.
process.once('SIGTERM', () => process.exit(143));

describe('containerdModule with a managed containerd', () => {
  it('starts containerd then the client in start order, and stops them in reverse', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp('/tmp/ctd-');
    const container = new Container();
    container.bind(ContainerdConfig).toConstantValue(containerdConfigSchema.parse({
      namespace: 'crikit-module', managed: { rootDir: `${dir}/root`, stateDir: `${dir}/state` },
    }));
    container.bind(Logger).toConstantValue(silentLogger);
    container.load(containerdModule);
    const startables = container.getAll<Startable>(Startable).sort((a, b) => a.startOrder - b.startOrder);
    try {
      for (const s of startables) await s.start(AbortSignal.timeout(30_000));
      const client = container.get<ContainerdClient>(ContainerdClient);
      assert.match((await client.version.version({})).version, /^\d+\.\d+/);
      assert.deepEqual((await client.containers.list({})).containers, []);
    } finally {
      for (const s of startables.reverse()) await s.stop(AbortSignal.timeout(15_000));
      const managed = container.get<ManagedContainerd>(ManagedContainerd);
      assert.equal(managed.pid, undefined);
      assert.equal(existsSync(managed.address), false);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
