// The probe runs the real crun (Debian's crun package; CI installs it): what it reports must follow
// what the binary does, so wrappers that quietly drop `rro` or a mount's uid/gid mappings from the
// bundle before crun sees it must each cost exactly that feature.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { probeOciRuntime } from './runtime-probe.js';

let tmp: string;
const signal = new AbortController().signal;

/** A crun that runs `sed <expr>` on the bundle's config.json before a create. */
function wrapper(name: string, sedExpr: string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, `#!/bin/sh\nprev=\nfor a in "$@"; do [ "$prev" = --bundle ] && sed -i '${sedExpr}' "$a/config.json"; prev=$a; done\nexec crun "$@"\n`, { mode: 0o755 });
  return file;
}

/** Processes whose command line names `dir`, and mounts under it. */
function leftovers(dir: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter(p => /^\d+$/.test(p))) {
    const cmd = (() => { try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { return ''; } })();
    if (cmd.includes(dir)) found.push(`process ${pid}: ${cmd.replaceAll('\0', ' ')}`);
  }
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) if (line.includes(dir)) found.push(`mount: ${line}`);
  if (fs.existsSync(dir)) found.push(`dir ${dir}`);
  return found;
}

before(() => {
  assert.equal(spawnSync('crun', ['--version']).status, 0, 'crun is needed for this test: apt-get install crun');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ck-probe-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('probeOciRuntime on the real crun', () => {
  it('sees a user namespace, an idmapped bind and rro work, and leaves nothing behind', async t => {
    const dir = path.join(tmp, 'crun');
    // What a killed crikitd would have left: the next probe starts afresh.
    fs.mkdirSync(path.join(dir, 'rootfs'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'rootfs', 'stale'), '');
    const r = await probeOciRuntime('crun', dir, signal);
    t.diagnostic(`probe of ${spawnSync('crun', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]}: ${r.ms} ms`);
    assert.deepEqual([r.userNamespace, r.idmapMounts, r.recursiveReadOnlyMounts, r.failures], [true, true, true, {}]);
    assert.deepEqual(leftovers(dir), []);
  });

  it('a runtime that drops rro loses only rro: the submount stayed writable', async () => {
    const dir = path.join(tmp, 'no-rro');
    const r = await probeOciRuntime(wrapper('crun-no-rro', 's/"rro"/"ro"/'), dir, signal);
    assert.deepEqual([r.userNamespace, r.idmapMounts, r.recursiveReadOnlyMounts], [true, true, false]);
    assert.match(r.failures.recursiveReadOnlyMounts!, /submount of an rro bind stayed writable/);
    assert.deepEqual(leftovers(dir), []);
  });

  it('a runtime that drops a mount\'s mappings loses only idmapped mounts: the file shows as its host owner', async () => {
    const dir = path.join(tmp, 'no-idmap');
    const r = await probeOciRuntime(wrapper('crun-no-idmap', 's/"ro"\\],"uidMappings":\\[[^]]*\\],"gidMappings":\\[[^]]*\\]/"ro"]/'), dir, signal);
    assert.deepEqual([r.userNamespace, r.idmapMounts, r.recursiveReadOnlyMounts], [true, false, true]);
    assert.match(r.failures.idmapMounts!, /owned by 4242:4343 showed as 4242:4343/);
    assert.deepEqual(leftovers(dir), []);
  });

  it('a binary that cannot run: every feature fails with the reason', async () => {
    const dir = path.join(tmp, 'missing');
    const r = await probeOciRuntime('/nonexistent/crun', dir, signal);
    assert.deepEqual([r.userNamespace, r.idmapMounts, r.recursiveReadOnlyMounts], [false, false, false]);
    for (const why of Object.values(r.failures)) assert.match(why, /ENOENT|exit status/);
    assert.deepEqual(leftovers(dir), []);
  });

  it('stops and cleans up when cancelled', async () => {
    const dir = path.join(tmp, 'cancelled');
    const stop = new AbortController();
    stop.abort(new Error('stop'));
    await assert.rejects(probeOciRuntime('crun', dir, stop.signal), /stop/);
    assert.deepEqual(leftovers(dir), []);
  });
});
