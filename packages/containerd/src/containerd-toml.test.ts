import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseToml } from 'smol-toml';
import { containerdToml, type ContainerdTomlSettings } from './containerd-toml.js';

/** The TOML read back as plain objects (the parser's tables have no prototype). */
const parse = (toml: string): Record<string, unknown> => JSON.parse(JSON.stringify(parseToml(toml)));

const settings: ContainerdTomlSettings = {
  rootDir: '/tmp/ctd/root',
  stateDir: '/tmp/ctd/state',
  grpcAddress: '/tmp/ctd/state/containerd.sock',
  ttrpcAddress: '/tmp/ctd/state/containerd.sock.ttrpc',
  logLevel: 'warn',
};

describe('containerdToml', () => {
  it('writes a private containerd with its CRI plugin disabled', () => {
    const toml = containerdToml(settings);
    assert.match(toml, /^version = 2$/m);
    assert.deepEqual(parse(toml), {
      version: 2,
      root: '/tmp/ctd/root',
      state: '/tmp/ctd/state',
      disabled_plugins: ['io.containerd.grpc.v1.cri', 'io.containerd.snapshotter.v1.devmapper'],
      grpc: { address: '/tmp/ctd/state/containerd.sock' },
      ttrpc: { address: '/tmp/ctd/state/containerd.sock.ttrpc' },
      debug: { level: 'warn' },
      plugins: { 'io.containerd.internal.v1.opt': { path: '/tmp/ctd/root/opt' } },
    });
  });

  it('writes extra plugin sections, and a section for the CRI plugin enables it', () => {
    const cri = { sandbox_image: 'localhost:5000/pause:1', cni: { bin_dir: '/usr/lib/cni' } };
    const parsed = parse(containerdToml({ ...settings, plugins: { 'io.containerd.grpc.v1.cri': cri } }));
    assert.deepEqual(parsed.disabled_plugins, ['io.containerd.snapshotter.v1.devmapper']);
    assert.deepEqual((parsed.plugins as Record<string, unknown>)['io.containerd.grpc.v1.cri'], cri);

    const other = parse(containerdToml({ ...settings, plugins: { 'io.containerd.gc.v1.scheduler': { pause_threshold: 0.05 } } }));
    assert.deepEqual(other.disabled_plugins, ['io.containerd.grpc.v1.cri', 'io.containerd.snapshotter.v1.devmapper']);
    assert.deepEqual((other.plugins as Record<string, unknown>)['io.containerd.gc.v1.scheduler'], { pause_threshold: 0.05 });
  });

  it('escapes quotes, backslashes and control characters', () => {
    const root = '/tmp/a "b"\\c\nd\u0001';
    const toml = containerdToml({ ...settings, rootDir: root });
    assert.equal(toml.split('\n').filter(l => l.startsWith('root = ')).length, 1, 'the value stays on one line');
    assert.equal(parse(toml).root, root);
  });
});
