import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeOciImageConfig, InvalidArgumentError, type OciImageConfig } from '@crikit/core';
import { containerArgs, containerCwd, containerEnv, containerOomScoreAdj, containerProcess } from './container-process.js';
import { containerConfig, specOptions } from './container-spec-fixtures.js';

const image = (config: Record<string, unknown> = {}): OciImageConfig => decodeOciImageConfig({ architecture: 'amd64', os: 'linux', config });
const nginx = image({ Entrypoint: ['/docker-entrypoint.sh'], Cmd: ['nginx', '-g', 'daemon off;'], Env: ['PATH=/usr/sbin:/bin', 'NGINX=1'], WorkingDir: '/srv' });

describe('containerArgs', () => {
  it('uses the image’s Entrypoint and Cmd when the CRI gives neither', () => {
    assert.deepEqual(containerArgs(containerConfig(), nginx), ['/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;']);
  });
  it('replaces the Cmd with CRI args, keeping the Entrypoint', () => {
    assert.deepEqual(containerArgs(containerConfig({ args: ['nginx-debug'] }), nginx), ['/docker-entrypoint.sh', 'nginx-debug']);
  });
  it('replaces the Entrypoint with the CRI command and drops the Cmd', () => {
    assert.deepEqual(containerArgs(containerConfig({ command: ['/bin/sh'] }), nginx), ['/bin/sh']);
    assert.deepEqual(containerArgs(containerConfig({ command: ['/bin/sh'], args: ['-c', 'true'] }), nginx), ['/bin/sh', '-c', 'true']);
  });
  it('treats ENTRYPOINT [""] as none', () => {
    assert.deepEqual(containerArgs(containerConfig(), image({ Entrypoint: [''], Cmd: ['sh'] })), ['sh']);
  });
  it('refuses a container with nothing to run', () => {
    assert.throws(() => containerArgs(containerConfig(), image()), InvalidArgumentError);
  });
});

describe('containerEnv', () => {
  const envs = [{ key: 'NGINX', value: Buffer.from('2') }, { key: 'EXTRA', value: Buffer.from('a=b') }];
  it('orders default PATH, HOSTNAME, image env, CRI env; CRI wins, image PATH kept', () => {
    assert.deepEqual(containerEnv(containerConfig({ envs }), nginx, 'web-0', 'node-1'),
      ['PATH=/usr/sbin:/bin', 'HOSTNAME=web-0', 'NGINX=2', 'EXTRA=a=b']);
  });
  it('keeps the default PATH when the image has none, and falls back to the node hostname', () => {
    assert.deepEqual(containerEnv(containerConfig(), image(), '', 'node-1'),
      ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=node-1']);
  });
  it('adds TERM=xterm for a tty, which the image may override', () => {
    assert.ok(containerEnv(containerConfig({ tty: true }), image(), 'h', 'n').includes('TERM=xterm'));
    assert.ok(containerEnv(containerConfig({ tty: true }), image({ Env: ['TERM=dumb'] }), 'h', 'n').includes('TERM=dumb'));
    assert.ok(!containerEnv(containerConfig(), image(), 'h', 'n').some(e => e.startsWith('TERM=')));
  });
});

describe('containerCwd', () => {
  it('prefers the CRI, then the image, then /', () => {
    assert.equal(containerCwd(containerConfig({ workingDir: '/work' }), nginx), '/work');
    assert.equal(containerCwd(containerConfig(), nginx), '/srv');
    assert.equal(containerCwd(containerConfig(), image()), '/');
  });
});

describe('containerOomScoreAdj', () => {
  it('takes the CRI value, clamped when restricting, none without resources', () => {
    const cfg = containerConfig({}, {}, { oomScoreAdj: -997n });
    assert.equal(containerOomScoreAdj(cfg, specOptions()), -997);
    assert.equal(containerOomScoreAdj(cfg, specOptions({ restrictOomScoreAdj: true, ownOomScoreAdj: -500 })), -500);
    assert.equal(containerOomScoreAdj(containerConfig({}, {}, { oomScoreAdj: 1000n }), specOptions({ restrictOomScoreAdj: true, ownOomScoreAdj: -500 })), 1000);
    assert.equal(containerOomScoreAdj(containerConfig(), specOptions()), undefined);
  });
});

describe('containerProcess', () => {
  it('sets terminal, args, env, cwd and no rlimits by default', () => {
    const p = containerProcess(containerConfig({ tty: true }), { image: nginx, podHostname: 'web-0', options: specOptions() });
    assert.equal(p.terminal, true);
    assert.equal(p.args[0], '/docker-entrypoint.sh');
    assert.equal(p.cwd, '/srv');
    assert.equal(p.rlimits, undefined);
    assert.equal('oomScoreAdj' in p, false);
  });
  it('sets configured rlimits', () => {
    const rlimits = [{ type: 'RLIMIT_NOFILE', hard: 1048576, soft: 1048576 }];
    assert.deepEqual(containerProcess(containerConfig(), { image: nginx, podHostname: '', options: specOptions({ rlimits }) }).rlimits, rlimits);
  });
  it('refuses at create what runc would refuse at start: NUL bytes, bad env names, a relative working_dir', () => {
    const ctx = { image: nginx, podHostname: '', options: specOptions() };
    const refused = (patch: Parameters<typeof containerConfig>[0], message: RegExp): void =>
      assert.throws(() => containerProcess(containerConfig(patch), ctx), (e: Error) => e instanceof InvalidArgumentError && message.test(e.message));
    refused({ command: ['sh', 'a\0b'] }, /command\[1\] contains a NUL byte/);
    refused({ args: ['\0'] }, /args\[0\] contains a NUL byte/);
    refused({ envs: [{ key: 'A', value: Buffer.from('x\0y') }] }, /envs\[0\]\.value contains a NUL byte/);
    refused({ envs: [{ key: 'A=B', value: Buffer.from('x') }] }, /envs\[0\]\.key "A=B" is not a variable name/);
    refused({ envs: [{ key: '', value: Buffer.from('x') }] }, /envs\[0\]\.key/);
    refused({ workingDir: 'relative' }, /working_dir "relative" is not an absolute path/);
    assert.doesNotThrow(() => containerProcess(containerConfig({ workingDir: '/ok', envs: [{ key: 'A', value: Buffer.from('\u00fc') }] }), ctx));
  });
});
