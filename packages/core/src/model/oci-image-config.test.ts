import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../errors.js';
import { imageUser } from './image-record.js';
import { decodeOciImageConfig } from './oci-image-config.js';

describe('decodeOciImageConfig', () => {
  it('reads the fields crikit uses and drops the rest', () => {
    const config = decodeOciImageConfig({
      architecture: 'arm64', os: 'linux', variant: 'v8', created: '2024-01-01T00:00:00Z', history: [{}],
      config: {
        User: '101:101', Env: ['PATH=/bin'], Entrypoint: ['/docker-entrypoint.sh'], Cmd: ['nginx', '-g', 'daemon off;'],
        WorkingDir: '/', StopSignal: 'SIGQUIT', Labels: { maintainer: 'x' }, ExposedPorts: { '80/tcp': {} }, Volumes: { '/data': {} },
      },
      rootfs: { type: 'layers', diff_ids: ['sha256:aa'] },
    });
    assert.equal(config.config.StopSignal, 'SIGQUIT');
    assert.deepEqual(config.config.ExposedPorts, { '80/tcp': {} });
    assert.deepEqual(config.rootfs?.diff_ids, ['sha256:aa']);
    assert.equal('history' in config, false);
  });

  it('reads docker nulls as absent, and a missing config as empty', () => {
    const config = decodeOciImageConfig({ architecture: 'amd64', os: 'linux', config: { Cmd: null, Env: null, Labels: null, User: '' } });
    assert.equal(config.config.Cmd, undefined);
    assert.equal(config.config.Labels, undefined);
    assert.equal(decodeOciImageConfig({ architecture: 'amd64', os: 'linux' }).config.Cmd, undefined);
  });

  it('refuses what is not an image config', () => {
    assert.throws(() => decodeOciImageConfig({ os: 'linux' }), InvalidArgumentError);
    assert.throws(() => decodeOciImageConfig({ architecture: 'amd64', os: 'linux', config: { Cmd: 'sh' } }), InvalidArgumentError);
  });
});

describe('imageUser', () => {
  it('splits User as containerd does', () => {
    assert.deepEqual(imageUser('1000'), { uid: 1000, username: '' });
    assert.deepEqual(imageUser('1000:1000'), { uid: 1000, username: '' });
    assert.deepEqual(imageUser('nginx:nginx'), { uid: undefined, username: 'nginx' });
    assert.deepEqual(imageUser(''), { uid: undefined, username: '' });
    assert.deepEqual(imageUser(undefined), { uid: undefined, username: '' });
  });
});
