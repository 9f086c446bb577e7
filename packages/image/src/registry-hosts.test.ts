import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FailedPreconditionError } from '@crikit/core';
import { parseHostsToml, RegistryHosts } from './registry-hosts.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('parseHostsToml', () => {
  it('lists mirrors in file order, then the server, with containerd defaults', () => {
    const entries = parseHostsToml(`
server = "https://registry.example.com"

[host."https://mirror-b.example.com"]
  capabilities = ["pull", "resolve"]

[host."http://mirror-a.local:5000"]
  capabilities = ["pull"]
  skip_verify = true

[host."mirror-c.example.com/prefix"]
`, 'registry.example.com', '/etc/crikit/certs.d/registry.example.com');
    assert.deepEqual(entries.map(e => e.url), [
      'https://mirror-b.example.com/v2',
      'http://mirror-a.local:5000/v2',
      'https://mirror-c.example.com/prefix/v2',
      'https://registry.example.com/v2',
    ]);
    assert.deepEqual(entries.map(e => e.host), ['mirror-b.example.com', 'mirror-a.local:5000', 'mirror-c.example.com', 'registry.example.com']);
    assert.deepEqual(entries.map(e => e.capabilities), [['pull', 'resolve'], ['pull'], ['pull', 'resolve', 'push'], ['pull', 'resolve', 'push']]);
    assert.deepEqual(entries.map(e => e.skipVerify), [false, true, false, false]);
  });

  it('defaults the server to https://<host>, and docker.io to registry-1.docker.io', () => {
    assert.deepEqual(parseHostsToml('', '127.0.0.1:5000', '/d').map(e => e.url), ['https://127.0.0.1:5000/v2']);
    assert.deepEqual(parseHostsToml('[host."http://m:1"]\n', 'docker.io', '/d').map(e => e.url), ['http://m:1/v2', 'https://registry-1.docker.io/v2']);
  });

  it('applies root-level keys to the server', () => {
    const [server] = parseHostsToml('server = "http://127.0.0.1:5000"\nskip_verify = true\nca = "root.pem"\n[header]\nX-A = "1"\n', '127.0.0.1:5000', '/certs/h');
    assert.equal(server?.url, 'http://127.0.0.1:5000/v2');
    assert.equal(server?.skipVerify, true);
    assert.deepEqual(server?.caFiles, ['/certs/h/root.pem']);
    assert.deepEqual(server?.headers, { 'X-A': ['1'] });
  });

  it('reads ca as a path or a list, relative to the host directory', () => {
    const [mirror] = parseHostsToml('[host."https://m"]\nca = ["a.pem", "/abs/b.pem"]\n', 'h', '/certs/h');
    assert.deepEqual(mirror?.caFiles, ['/certs/h/a.pem', '/abs/b.pem']);
  });

  it('reads headers as strings or lists', () => {
    const [mirror] = parseHostsToml('[host."https://m".header]\nx-one = "1"\nx-two = ["a", "b"]\n', 'h', '/d');
    assert.deepEqual(mirror?.headers, { 'x-one': ['1'], 'x-two': ['a', 'b'] });
  });

  it('keeps a path ending in /v2 and honours override_path', () => {
    const entries = parseHostsToml(`
[host."https://a/v2"]
[host."https://b/custom/api"]
  override_path = true
[host."https://c/"]
`, 'h', '/d');
    assert.deepEqual(entries.map(e => e.url), ['https://a/v2', 'https://b/custom/api', 'https://c/v2', 'https://h/v2']);
  });

  it('refuses bad files with the file and key in the message', () => {
    const cases: [string, string][] = [
      ['this is = = not toml', 'invalid toml'],
      ['[host."https://m"]\ncapabilities = ["pull", "fly"]\n', 'unknown capability "fly"'],
      ['[host."https://m"]\nskip_verify = "yes"\n', '"skip_verify" must be a boolean'],
      ['[host."https://m"]\nca = 3\n', '"ca" must be a path'],
      ['[host."ftp://m"]\n', 'unsupported scheme'],
      ['server = 1\n', '"server" must be a string'],
      ['[host."https://m".header]\nx = 1\n', 'header "x"'],
    ];
    for (const [text, why] of cases) {
      assert.throws(() => parseHostsToml(text, 'h', '/certs/h'), (err: unknown) => {
        assert.ok(err instanceof FailedPreconditionError, String(err));
        assert.ok(err.message.startsWith('read registry config /certs/h/hosts.toml: '), err.message);
        assert.ok(err.message.includes(why), `"${err.message}" should say "${why}"`);
        return true;
      });
    }
  });
});

describe('RegistryHosts', () => {
  let dir: string;
  const hosts = (): RegistryHosts => new RegistryHosts({ registryConfigDir: dir });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'crikit-hosts-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives https://<host>/v2 when there is no config', async () => {
    const [only, ...rest] = await hosts().endpoints('no-config.example:5000');
    assert.equal(rest.length, 0);
    assert.deepEqual(only, {
      url: 'https://no-config.example:5000/v2', host: 'no-config.example:5000', capabilities: ['pull', 'resolve', 'push'],
      skipVerify: false, caPems: [], headers: {},
    });
    assert.equal((await hosts().endpoints('docker.io'))[0]?.url, 'https://registry-1.docker.io/v2');
  });

  it('finds host:port directories, prefers host_port_, and reads CA files', async () => {
    await mkdir(join(dir, '10.0.0.1:5000'));
    await writeFile(join(dir, '10.0.0.1:5000', 'hosts.toml'), 'server = "http://10.0.0.1:5000"\n');
    assert.equal((await hosts().endpoints('10.0.0.1:5000'))[0]?.url, 'http://10.0.0.1:5000/v2');

    await mkdir(join(dir, '10.0.0.1_5000_'));
    await writeFile(join(dir, '10.0.0.1_5000_', 'ca.pem'), PEM);
    await writeFile(join(dir, '10.0.0.1_5000_', 'hosts.toml'), 'server = "https://10.0.0.1:5000"\nca = "ca.pem"\n');
    const [server] = await hosts().endpoints('10.0.0.1:5000');
    assert.equal(server?.url, 'https://10.0.0.1:5000/v2');
    assert.deepEqual(server?.caPems, [PEM]);
  });

  it('falls back to _default for hosts without a directory', async () => {
    const sub = await mkdtemp(join(tmpdir(), 'crikit-hosts-default-'));
    try {
      await mkdir(join(sub, '_default'));
      await writeFile(join(sub, '_default', 'hosts.toml'), '[host."http://127.0.0.1:1"]\n  capabilities = ["pull"]\n');
      const endpoints = await new RegistryHosts({ registryConfigDir: sub }).endpoints('quay.io');
      assert.deepEqual(endpoints.map(e => e.url), ['http://127.0.0.1:1/v2', 'https://quay.io/v2']);
    } finally {
      await rm(sub, { recursive: true, force: true });
    }
  });

  it('uses *.crt files of a directory without hosts.toml (Docker certs.d layout)', async () => {
    await mkdir(join(dir, 'legacy.example'));
    await writeFile(join(dir, 'legacy.example', 'b.crt'), PEM.replace('MIIB', 'BBBB'));
    await writeFile(join(dir, 'legacy.example', 'a.crt'), PEM);
    await writeFile(join(dir, 'legacy.example', 'client.cert'), 'ignored');
    const [server] = await hosts().endpoints('legacy.example');
    assert.equal(server?.url, 'https://legacy.example/v2');
    assert.deepEqual(server?.caPems, [PEM, PEM.replace('MIIB', 'BBBB')]);
  });

  it('refuses a missing or non-PEM CA file, naming it', async () => {
    await mkdir(join(dir, 'badca.example'));
    await writeFile(join(dir, 'badca.example', 'hosts.toml'), 'ca = "missing.pem"\n');
    await assert.rejects(hosts().endpoints('badca.example'), (err: unknown) =>
      err instanceof FailedPreconditionError && err.message.includes(join(dir, 'badca.example', 'missing.pem')));
    await writeFile(join(dir, 'badca.example', 'missing.pem'), 'not a certificate');
    await assert.rejects(hosts().endpoints('badca.example'), /no pem certificate/);
  });

  it('reads the files on every call, so edits apply without a restart', async () => {
    await mkdir(join(dir, 'edited.example'));
    await writeFile(join(dir, 'edited.example', 'hosts.toml'), 'server = "http://edited.example:1"\n');
    const registryHosts = hosts();
    assert.equal((await registryHosts.endpoints('edited.example'))[0]?.url, 'http://edited.example:1/v2');
    await writeFile(join(dir, 'edited.example', 'hosts.toml'), 'server = "http://edited.example:2"\n');
    assert.equal((await registryHosts.endpoints('edited.example'))[0]?.url, 'http://edited.example:2/v2');
  });
});
