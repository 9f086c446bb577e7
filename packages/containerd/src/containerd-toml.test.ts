import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containerdToml, type ContainerdTomlSettings } from './containerd-toml.js';

const settings: ContainerdTomlSettings = {
  rootDir: '/tmp/ctd/root',
  stateDir: '/tmp/ctd/state',
  grpcAddress: '/tmp/ctd/state/containerd.sock',
  ttrpcAddress: '/tmp/ctd/state/containerd.sock.ttrpc',
  logLevel: 'warn',
  snapshotter: 'overlayfs',
};

describe('containerdToml', () => {
  it('writes a private containerd with its CRI plugin disabled', () => {
    const toml = containerdToml(settings);
    assert.match(toml, /^version = 2$/m);
    assert.match(toml, /^root = "\/tmp\/ctd\/root"$/m);
    assert.match(toml, /^state = "\/tmp\/ctd\/state"$/m);
    assert.match(toml, /^disabled_plugins = \[.*"io\.containerd\.grpc\.v1\.cri".*\]$/m);
    assert.match(toml, /\[grpc\]\n {2}address = "\/tmp\/ctd\/state\/containerd\.sock"/);
    assert.match(toml, /\[ttrpc\]\n {2}address = "\/tmp\/ctd\/state\/containerd\.sock\.ttrpc"/);
    assert.match(toml, /\[debug\]\n {2}level = "warn"/);
    assert.match(toml, /\[plugins\."io\.containerd\.internal\.v1\.opt"\]\n {2}path = "\/tmp\/ctd\/root\/opt"/);
    assert.doesNotMatch(toml, /sandbox_image/);
  });

  it('enables the CRI plugin with the given options', () => {
    const toml = containerdToml({
      ...settings,
      criPlugin: { sandboxImage: 'localhost:5000/pause:1', cniBinDir: '/usr/lib/cni', registryConfigPath: '/tmp/certs.d' },
    });
    assert.doesNotMatch(toml, /disabled_plugins = \[.*grpc\.v1\.cri/);
    assert.match(toml, /\[plugins\."io\.containerd\.grpc\.v1\.cri"\]\n {2}sandbox_image = "localhost:5000\/pause:1"\n {2}restrict_oom_score_adj = true/);
    assert.match(toml, /\.cni\]\n {2}bin_dir = "\/usr\/lib\/cni"\n {2}conf_dir = "\/etc\/cni\/net\.d"/);
    assert.match(toml, /\.containerd\]\n {2}snapshotter = "overlayfs"/);
    assert.match(toml, /\.containerd\.runtimes\.runc\]\n {2}runtime_type = "io\.containerd\.runc\.v2"/);
    assert.match(toml, /\.registry\]\n {2}config_path = "\/tmp\/certs\.d"/);
  });

  it('escapes quotes, backslashes and control characters', () => {
    const toml = containerdToml({ ...settings, rootDir: '/tmp/a "b"\\c\nd' });
    assert.match(toml, /^root = "\/tmp\/a \\"b\\"\\\\c\\u000ad"$/m);
  });
});
