// crikitd as a node runs it: managed containerd, the CRI socket, Version/Status/RuntimeConfig, shutdown.
import assert from 'node:assert/strict';
import { spawnSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, credentials, status } from '@grpc/grpc-js';
import { cri } from '@crikit/api';
import { spawnHelperMarker } from '@crikit/core';
import { crikitdMain, startCrikitd, tempRuntimeDirs, type RunningCrikitd } from '../support/crikitd.js';

/** The children of `pid` but its spawn helper (which runs programs for it and is restarted on its own). */
function children(pid: number): number[] {
  const out = spawnSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter(l => !l.includes(spawnHelperMarker)).map(s => Number(s.trim().split(' ')[0])).filter(n => n > 0);
}
/** The pid of the spawn helper of `pid`, if it runs one. */
function spawnHelperOf(pid: number): number | undefined {
  const out = spawnSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' }).stdout;
  const line = out.split('\n').find(l => l.includes(spawnHelperMarker));
  return line === undefined ? undefined : Number(line.trim().split(' ')[0]);
}
const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true; } catch { return false; } };

describe('crikitd with managed containerd', () => {
  const dirs = tempRuntimeDirs();
  let d: RunningCrikitd;
  before(async () => { d = await startCrikitd(dirs.config, dirs.dir); });
  after(async () => { await d?.stop(); dirs.cleanup(); });

  test('Version names crikit and CRI v1', async () => {
    const v = await d.client.runtime.version({ version: 'v1' });
    assert.equal(v.runtimeName, 'crikit');
    assert.equal(v.runtimeApiVersion, 'v1');
    assert.match(v.runtimeVersion, /^\d+\.\d+\.\d+/);
  });

  test('Status: runtime ready, network not ready until a CNI config appears', async () => {
    const s = await d.client.runtime.status({ verbose: true });
    const cond = (type: string) => s.status!.conditions.find(c => c.type === type)!;
    assert.equal(cond('RuntimeReady').status, true);
    assert.equal(cond('NetworkReady').status, false);
    assert.equal(cond('NetworkReady').reason, 'NetworkPluginNotReady');
    assert.match(cond('NetworkReady').message, /cni config not found/);
    assert.match(JSON.parse(s.info.containerd!).version, /1\.\d+/);
    assert.equal(JSON.parse(s.info.config!).containerd.namespace, 'k8s.io');

    const confDir = (dirs.config.cni as { confDir: string }).confDir;
    fs.writeFileSync(path.join(confDir, '10-test.conflist'), JSON.stringify({
      cniVersion: '1.0.0', name: 'testnet', plugins: [{ type: 'bridge', bridge: 'ck0', ipam: { type: 'host-local', subnet: '10.88.7.0/24' } }],
    }));
    const deadline = Date.now() + 10_000;
    for (;;) {
      const again = await d.client.runtime.status({});
      if (again.status!.conditions.find(c => c.type === 'NetworkReady')!.status) break;
      assert.ok(Date.now() < deadline, 'NetworkReady did not follow the new CNI config');
      await new Promise(r => setTimeout(r, 200));
    }
  });

  test('RuntimeConfig reports the cgroupfs driver', async () => {
    const rc = await d.client.runtime.runtimeConfig({});
    assert.equal(rc.linux?.cgroupDriver, cri.CgroupDriver.CGROUPFS);
  });

  test('a method the CRI does not have (a newer client\'s) answers UNIMPLEMENTED', async () => {
    const raw = new Client(`unix://${d.socket}`, credentials.createInsecure());
    try {
      const answer = await new Promise<{ code: number; details: string }>(resolve => {
        raw.makeUnaryRequest('/runtime.v1.RuntimeService/NoSuchCall', (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0),
          err => resolve(err ?? { code: status.OK, details: '' }));
      });
      assert.equal(answer.code, status.UNIMPLEMENTED, answer.details);
    } finally {
      raw.close();
    }
  });

  test('containerd killed under crikitd is restarted, and Status follows', async () => {
    const [containerd] = children(d.proc.pid!);
    assert.ok(containerd, 'managed containerd runs as a child');
    process.kill(containerd, 'SIGKILL');
    const runtimeReady = async () => (await d.client.runtime.status({})).status!.conditions.find(c => c.type === 'RuntimeReady')!.status;
    const deadline = Date.now() + 30_000;
    while (alive(containerd) && Date.now() < deadline) await new Promise(r => setTimeout(r, 50));
    for (;;) {
      const fresh = children(d.proc.pid!).filter(p => p !== containerd);
      if (fresh.length > 0 && await runtimeReady()) break;
      assert.ok(Date.now() < deadline, 'containerd came back and RuntimeReady is true again');
      await new Promise(r => setTimeout(r, 200));
    }
  });

  test('a second crikitd on the same socket refuses to start and leaves the first serving', async () => {
    const second = spawnSync(process.execPath, [crikitdMain, '--socket', d.socket], { encoding: 'utf8', timeout: 30_000 });
    assert.notEqual(second.status, 0);
    assert.match(second.stderr, /another runtime already serves/);
    assert.equal((await d.client.runtime.version({})).runtimeName, 'crikit');
  });
});

test('SIGTERM stops containerd and removes the socket', async () => {
  const dirs = tempRuntimeDirs();
  try {
    const d = await startCrikitd(dirs.config, dirs.dir);
    const kids = children(d.proc.pid!);
    assert.ok(kids.length >= 1, 'managed containerd runs as a child');
    const helper = spawnHelperOf(d.proc.pid!);
    assert.ok(helper, 'the spawn helper runs as a child');
    kids.push(helper);
    assert.equal(await d.stop(), 0);
    assert.equal(fs.existsSync(d.socket), false, 'socket removed');
    for (const pid of kids) assert.equal(alive(pid), false, `child ${pid} still alive`);
  } finally {
    dirs.cleanup();
  }
});

test('a bad config file makes crikitd exit non-zero naming the key', async () => {
  const dirs = tempRuntimeDirs();
  try {
    const file = path.join(dirs.dir, 'bad.toml');
    fs.writeFileSync(file, '[cgroup]\ndriver = "cgroupv3"\n');
    const p = spawn(process.execPath, [crikitdMain, '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    const code = await new Promise<number | null>(resolve => p.once('exit', resolve));
    assert.equal(code, 1);
    assert.match(err, /cgroup\.driver/);
    assert.match(err, new RegExp(file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  } finally {
    dirs.cleanup();
  }
});
