import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { LocalRegistry } from './local-registry.js';
import { blobOf } from './oci-blob.js';
import { pushBlob, registryRequest } from './registry-push.js';

const execFileAsync = promisify(execFile);

/** Whether `pid` is a live process: zombies (dead, not yet reaped by whoever adopted them) do not count. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitUntil(what: string, cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise(resolve => setTimeout(resolve, 25));
  }
}

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('LocalRegistry', () => {
  it('serves /v2/ on 127.0.0.1, and stop() leaves no process and no directory', async () => {
    const registry = await LocalRegistry.start();
    const pid = registry.pid;
    assert.ok(pid !== undefined && isRunning(pid), 'registry process runs');
    assert.match(registry.host, /^127\.0\.0\.1:\d+$/);
    assert.equal(registry.url, `http://${registry.host}`);
    assert.ok(existsSync(registry.storageRoot));
    assert.equal((await registryRequest(registry, 'GET', '/v2/')).status, 200);
    await registry.stop();
    assert.equal(isRunning(pid), false, 'registry process is gone');
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
    assert.equal(existsSync(registry.dir), false, 'temp dir removed');
    await registry.stop(); // idempotent
  });

  it('requires basic auth when started with htpasswd', async () => {
    const registry = await LocalRegistry.start({ htpasswd: { user: 'alice', password: 's3cret pw' } });
    try {
      const anonymous = await registryRequest(registry, 'GET', '/v2/');
      assert.equal(anonymous.status, 401);
      assert.match(String(anonymous.headers['www-authenticate']), /^Basic realm=/);
      const wrong = await registryRequest(registry, 'GET', '/v2/', { headers: { authorization: basic('alice', 'nope') } });
      assert.equal(wrong.status, 401);
      const ok = await registryRequest(registry, 'GET', '/v2/', { headers: { authorization: basic('alice', 's3cret pw') } });
      assert.equal(ok.status, 200);
      assert.deepEqual(registry.credentials, { user: 'alice', password: 's3cret pw' });
    } finally {
      await registry.stop();
    }
  });

  it('stops and restarts on the same port with the same storage', async () => {
    const registry = await LocalRegistry.start();
    try {
      const blob = blobOf(Buffer.from('kept across restarts'), 'application/octet-stream');
      assert.equal(await pushBlob(registry, 'keep/me', blob), true);
      const firstPid = registry.pid!;
      await registry.stopProcess();
      assert.equal(registry.pid, undefined);
      assert.equal(isRunning(firstPid), false);
      await assert.rejects(registryRequest(registry, 'GET', '/v2/'), /ECONNREFUSED/);
      await registry.stopProcess(); // idempotent
      await registry.restart();
      assert.notEqual(registry.pid, firstPid);
      const res = await registryRequest(registry, 'GET', `/v2/keep/me/blobs/${blob.digest}`);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, blob.data);
      await registry.restart(); // restarting a running registry replaces its process
      assert.equal((await registryRequest(registry, 'GET', '/v2/')).status, 200);
    } finally {
      await registry.stop();
    }
    await assert.rejects(registry.restart(), /removed/);
  });

  it('reports the registry output when restart() cannot bind its port', async () => {
    const registry = await LocalRegistry.start();
    const squatter = createServer();
    try {
      await registry.stopProcess();
      await new Promise<void>(resolve => squatter.listen(registry.port, '127.0.0.1', resolve));
      await assert.rejects(registry.restart(), /address already in use/);
      assert.equal(registry.pid, undefined);
    } finally {
      squatter.close();
      await registry.stop();
    }
  });

  it('says what to install when docker-registry is missing', async () => {
    await assert.rejects(LocalRegistry.start({ binary: '/nonexistent/docker-registry' }), /apt-get install docker-registry/);
  });

  it('kills the registry and removes its directory when the test process exits without stop()', async () => {
    const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', childScript('exit')]);
    const { pid, dir } = JSON.parse(stdout) as { pid: number; dir: string };
    await waitUntil('the registry is gone', () => !isRunning(pid));
    assert.equal(existsSync(dir), false);
  });

  it('kills the registry when the test process is SIGKILLed, and a later start removes the orphaned directory', async () => {
    const child = execFile(process.execPath, ['--input-type=module', '-e', childScript('hang')]);
    try {
      await killedChildLeavesNothing(child);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

/** Starts a registry in `child`, SIGKILLs the child, and checks what is left. */
async function killedChildLeavesNothing(child: ChildProcess): Promise<void> {
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    child.once('exit', code => reject(new Error(`child exited (${code}) before printing: ${out}`)));
  });
  const { pid, dir } = JSON.parse(line) as { pid: number; dir: string };
  assert.ok(isRunning(pid));
  const childGone = new Promise(resolve => child.once('exit', resolve));
  child.kill('SIGKILL');
  await childGone;
  await waitUntil('the registry is gone', () => !isRunning(pid));
  assert.ok(existsSync(dir), 'a SIGKILLed process cannot remove its directory');
  const next = await LocalRegistry.start();
  await next.stop();
  assert.equal(existsSync(dir), false, 'orphaned directory removed by the next start');
}

/** A child test process that starts a registry, prints its pid and dir, then exits or hangs. */
function childScript(mode: 'exit' | 'hang'): string {
  const module = fileURLToPath(new URL('./local-registry.js', import.meta.url));
  return [
    `import { LocalRegistry } from ${JSON.stringify(module)};`,
    'const r = await LocalRegistry.start();',
    'console.log(JSON.stringify({ pid: r.pid, dir: r.dir }));',
    mode === 'hang' ? 'setInterval(() => {}, 1000);' : '',
  ].join('\n');
}
