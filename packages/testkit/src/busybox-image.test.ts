import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { BUSYBOX_APPLETS, busyboxImage, DEFAULT_PATH_ENV } from './busybox-image.js';
import { MediaType } from './media-types.js';
import type { BuiltImage } from './oci-image.js';
import { readTar, type TarReadEntry } from './tar-reader.js';

const work = mkdtempSync(join(tmpdir(), 'testkit-busybox-'));
after(() => rmSync(work, { recursive: true, force: true }));

const layerEntries = (image: BuiltImage, i: number): Promise<TarReadEntry[]> => readTar(gunzipSync(image.layers[i]!.data));
const configOf = (image: BuiltImage): any => JSON.parse(image.config.data.toString('utf8'));

describe('busyboxImage', () => {
  it('holds the host busybox, its applets, users, groups and directories', async () => {
    const image = await busyboxImage();
    assert.equal(image.layers.length, 1);
    const entries = new Map((await layerEntries(image, 0)).map(e => [e.path, e]));
    assert.deepEqual(entries.get('bin/busybox')?.data, readFileSync('/bin/busybox'));
    assert.equal(entries.get('bin/busybox')?.mode, 0o755);
    for (const applet of ['sh', 'ls', 'cat', 'sleep', 'wget', 'nc', 'httpd', 'kill', 'true', 'false', ...BUSYBOX_APPLETS]) {
      const entry = entries.get(`bin/${applet}`);
      assert.equal(entry?.type, 'hardlink', applet);
      assert.equal(entry.linkTarget, 'bin/busybox');
    }
    assert.equal(entries.get('tmp')?.mode, 0o1777);
    for (const dir of ['etc', 'root', 'home', 'proc', 'sys', 'dev', 'var']) assert.equal(entries.get(dir)?.type, 'directory', dir);
    const passwd = entries.get('etc/passwd')!.data.toString().split('\n');
    assert.ok(passwd.includes('root:x:0:0:root:/root:/bin/sh'));
    assert.ok(passwd.includes('nobody:x:65534:65534:nobody:/home:/bin/false'));
    assert.ok(passwd.includes('app:x:1000:1000:app:/home/app:/bin/sh'));
    const group = entries.get('etc/group')!.data.toString().split('\n');
    for (const line of ['root:x:0:', 'app:x:1000:', 'extra:x:2000:app', 'nogroup:x:65534:']) assert.ok(group.includes(line), line);
  });

  it('has Cmd /bin/sh, the standard PATH and the host architecture', async () => {
    const config = configOf(await busyboxImage());
    assert.deepEqual(config.config, { Env: [DEFAULT_PATH_ENV], Cmd: ['/bin/sh'] });
    assert.equal(config.architecture, process.arch === 'x64' ? 'amd64' : config.architecture);
  });

  it('extracts with GNU tar into a root whose shell runs', async () => {
    const image = await busyboxImage();
    const layer = join(work, 'layer.tar');
    writeFileSync(layer, gunzipSync(image.layers[0]!.data));
    const root = join(work, 'rootfs');
    execFileSync('mkdir', ['-p', root]);
    execFileSync('tar', ['-xf', layer, '-C', root]);
    assert.equal(statSync(join(root, 'bin/sh')).ino, statSync(join(root, 'bin/busybox')).ino);
    const out = execFileSync(join(root, 'bin/sh'), ['-c', 'echo hello from $0; id -u'], { encoding: 'utf8' });
    assert.match(out, /^hello from .*\/bin\/sh\n\d+\n$/);
  });

  it('applies options: runtime config, extra files and layers, architecture, symlinks, docker format', async () => {
    const image = await busyboxImage({
      entrypoint: ['/bin/sh', '-c'],
      cmd: ['sleep 1'],
      env: ['FOO=bar', 'PATH=/bin'],
      user: 'app',
      workingDir: '/home/app',
      stopSignal: 'SIGUSR1',
      labels: { l: 'v' },
      extraFiles: [{ type: 'file', path: '/etc/motd', data: 'hi\n' }],
      extraLayers: [[{ type: 'file', path: 'data/x', data: 'x' }], [{ type: 'file', path: 'data/y', data: 'y' }]],
      architecture: 'arm',
      variant: 'v7',
      appletLinks: 'symlink',
      format: 'docker',
    });
    assert.equal(image.mediaType, MediaType.dockerManifest);
    assert.equal(image.layers.length, 3);
    const config = configOf(image);
    assert.deepEqual([config.architecture, config.variant], ['arm', 'v7']);
    assert.deepEqual(config.config, {
      User: 'app', Env: ['FOO=bar', 'PATH=/bin'], Entrypoint: ['/bin/sh', '-c'], Cmd: ['sleep 1'],
      WorkingDir: '/home/app', Labels: { l: 'v' }, StopSignal: 'SIGUSR1',
    });
    const base = new Map((await layerEntries(image, 0)).map(e => [e.path, e]));
    assert.equal(base.get('etc/motd')?.data.toString(), 'hi\n');
    assert.equal(base.get('bin/sh')?.type, 'symlink');
    assert.equal(base.get('bin/sh')?.linkTarget, 'busybox');
    assert.deepEqual((await layerEntries(image, 2)).map(e => [e.path, e.data.toString()]), [['data/y', 'y']]);
  });

  it('shares the base layer between calls and architectures', async () => {
    const a = await busyboxImage();
    const b = await busyboxImage({ architecture: 'arm64', cmd: ['true'] });
    assert.equal(a.layers[0]!.digest, b.layers[0]!.digest);
    assert.notEqual(a.config.digest, b.config.digest);
  });

  it('names busybox-static when the binary is missing', async () => {
    await assert.rejects(busyboxImage({ busyboxPath: '/nonexistent/busybox' }), /install busybox-static/);
  });
});
