import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { errorKind } from '@crikit/core';
import { loadCriConfigFile, parseCriConfig } from './cri-config.js';

test('an empty config takes every default', () => {
  const { config, warnings } = parseCriConfig({});
  assert.equal(config.server.socket, '/run/crikit/crikit.sock');
  assert.equal(config.server.socketMode, 0o660);
  assert.equal(config.containerd.address, 'managed');
  assert.equal(config.containerd.namespace, 'k8s.io');
  assert.equal(config.paths.rootDir, '/var/lib/crikit');
  assert.equal(config.cgroup.driver, 'cgroupfs');
  assert.deepEqual(config.cni.binDirs, ['/opt/cni/bin', '/usr/lib/cni']);
  assert.deepEqual(warnings, []);
});

test('a value of the wrong type is refused with its key path and reason', () => {
  assert.throws(() => parseCriConfig({ containerd: { namespace: 42 } }), (err: Error) =>
    errorKind(err) === 'invalid-argument' && /containerd\.namespace: expected string, received number/.test(err.message));
  assert.throws(() => parseCriConfig({ cgroup: { driver: 'cgroupv3' } }), (err: Error) =>
    errorKind(err) === 'invalid-argument' && err.message.includes('cgroup.driver'));
  assert.throws(() => parseCriConfig({ server: { socket: 'relative.sock' } }), (err: Error) =>
    err.message.includes('server.socket: must be an absolute path'));
});

test('an unknown key is refused at any level, named with its path', () => {
  assert.throws(() => parseCriConfig({ contianerd: {} }), (err: Error) => err.message.includes('(top level): unknown key contianerd'));
  assert.throws(() => parseCriConfig({ containerd: { adress: '/x.sock' } }), (err: Error) => err.message.includes('containerd: unknown key adress'));
  assert.throws(() => parseCriConfig({ cni: { confdir: '/x' } }), (err: Error) => err.message.includes('cni: unknown key confdir'));
});

test('a TOML file is read, with octal modes; a bad one names the file and the key', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crikit-config-'));
  try {
    const good = path.join(dir, 'good.toml');
    fs.writeFileSync(good, '[server]\nsocket = "/tmp/x.sock"\nsocketMode = 0o600\n[containerd]\naddress = "/run/containerd/containerd.sock"\n');
    const { config } = loadCriConfigFile(good);
    assert.equal(config.server.socketMode, 0o600);
    assert.equal(config.containerd.address, '/run/containerd/containerd.sock');

    const bad = path.join(dir, 'bad.toml');
    fs.writeFileSync(bad, '[cni]\nmaxConfNum = -1\n');
    assert.throws(() => loadCriConfigFile(bad), (err: Error) => err.message.startsWith(`config ${bad}: cni.maxConfNum:`));
    const broken = path.join(dir, 'broken.toml');
    fs.writeFileSync(broken, '[cni\n');
    assert.throws(() => loadCriConfigFile(broken), (err: Error) => err.message.includes('invalid TOML'));
    assert.throws(() => loadCriConfigFile(path.join(dir, 'missing.toml')), (err: Error) => err.message.includes('ENOENT'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
