import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import type { ProcessRunner } from '../contracts/process-runner.js';
import { errorKind, isUnavailable } from '../errors.js';
import { silentLogger } from '../logger.js';
import { DirectProcessRunner } from './direct-process-runner.js';
import { SpawnHelper } from './spawn-helper.js';

const signal = (): AbortSignal => new AbortController().signal;
const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true; } catch { return false; } };
const until = async (what: string, ok: () => boolean, ms = 5_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise(resolve => setTimeout(resolve, 10));
  }
};
/** The parent pid of `pid`, from /proc. */
const parentOf = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
};

const helper = new SpawnHelper(silentLogger);
after(() => helper.stop(AbortSignal.timeout(5_000)));

// The same semantics through the helper and directly.
for (const [name, runner] of [['SpawnHelper', helper], ['DirectProcessRunner', new DirectProcessRunner()]] as const) {
  describe(`${name} runs programs`, () => {
    const r: ProcessRunner = runner;
    test('stdin in, stdout and stderr out, the exit code, env on top of ours', async () => {
      const res = await r.run({
        file: '/bin/sh', args: ['-c', 'read x; echo "got $x $EXTRA ${HOME:+home}"; echo oops >&2; exit 3'],
        env: { EXTRA: 'extra' }, stdin: 'line\n', timeoutMs: 10_000, doing: 'test',
      }, signal());
      assert.deepEqual(res, { code: 3, signal: null, stdout: `got line extra ${process.env.HOME ? 'home' : ''}\n`, stderr: 'oops\n', outputExceeded: false });
    });

    test('a program that is not there is UnavailableError naming what we were doing', async () => {
      await assert.rejects(r.run({ file: '/nonexistent/prog', timeoutMs: 5_000, doing: 'run the thing' }, signal()),
        err => isUnavailable(err) && /^run the thing: cannot run \/nonexistent\/prog/.test((err as Error).message));
    });

    test('a timeout kills the program and its group: DeadlineExceededError', async () => {
      const started = Date.now();
      await assert.rejects(r.run({ file: '/bin/sh', args: ['-c', 'sleep 30 & wait'], ownGroup: true, timeoutMs: 300, doing: 'wait' }, signal()),
        err => errorKind(err) === 'deadline-exceeded' && /within 300ms, killed/.test((err as Error).message));
      assert.ok(Date.now() - started < 5_000);
    });

    test('an abort kills the program: CancelledError', async () => {
      const ac = new AbortController();
      const pidFile = `/tmp/crikit-spawn-test-${process.pid}-${name}`;
      const run = r.run({ file: '/bin/sh', args: ['-c', `echo $$ > ${pidFile}; exec sleep 30`], timeoutMs: 30_000, doing: 'sleep' }, ac.signal);
      await until('the pid file', () => { try { return readFileSync(pidFile, 'utf8').trim() !== ''; } catch { return false; } });
      const pid = Number(readFileSync(pidFile, 'utf8'));
      ac.abort();
      await assert.rejects(run, err => errorKind(err) === 'cancelled');
      await until(`sleep ${pid} killed`, () => !alive(pid) || readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '));
    });

    test('output beyond maxOutputBytes kills the program and is cut there', async () => {
      const res = await r.run({ file: '/bin/sh', args: ['-c', 'while :; do echo xxxxxxxxxxxxxxx; done'], maxOutputBytes: 1000, timeoutMs: 10_000, doing: 'print' }, signal());
      assert.equal(res.outputExceeded, true);
      assert.equal(res.stdout.length, 1000);
      assert.equal(res.signal, 'SIGKILL');
    });
  });
}

describe('SpawnHelper supervision', () => {
  test('programs are the helper\'s children, not ours', async () => {
    const res = await helper.run({ file: '/bin/sh', args: ['-c', 'echo $PPID'], timeoutMs: 10_000, doing: 'ppid' }, signal());
    assert.equal(Number(res.stdout), helper.pid);
    assert.equal(parentOf(helper.pid!), process.pid);
  });

  test('a helper that dies fails the runs in flight with UnavailableError and is restarted', async () => {
    const h = new SpawnHelper(silentLogger);
    try {
      await h.start(signal());
      const first = h.pid!;
      const inFlight = h.run({ file: '/bin/sleep', args: ['30'], timeoutMs: 30_000, doing: 'sleep' }, signal());
      // Killed once the request reached it (its sleep runs): a kill before that is a failed write (EPIPE) instead.
      await until('the sleep running under the helper', () => spawnSync('ps', ['-o', 'pid=', '--ppid', String(first)], { encoding: 'utf8' }).stdout.trim() !== '');
      process.kill(first, 'SIGKILL');
      await assert.rejects(inFlight, err => isUnavailable(err) && new RegExp(`^sleep: spawn helper ${first} exited \\(SIGKILL\\)`).test((err as Error).message));
      // Restarted on its own, before any new request.
      await until('a new helper', () => h.pid !== undefined && h.pid !== first);
      const res = await h.run({ file: '/bin/echo', args: ['again'], timeoutMs: 10_000, doing: 'echo' }, signal());
      assert.equal(res.stdout, 'again\n');
      assert.equal(alive(first), false);
    } finally {
      await h.stop(AbortSignal.timeout(5_000));
    }
  });

  test('runs in parallel, each answer to its own request', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      helper.run({ file: '/bin/sh', args: ['-c', `sleep 0.0${i % 5}; echo ${i}`], timeoutMs: 10_000, doing: `echo ${i}` }, signal())));
    assert.deepEqual(results.map(r => r.stdout), Array.from({ length: 20 }, (_, i) => `${i}\n`));
  });

  test('a helper whose parent is SIGKILLed exits on its own', async () => {
    const program = `
      const { SpawnHelper } = await import(${JSON.stringify(new URL('./spawn-helper.js', import.meta.url).href)});
      const { silentLogger } = await import(${JSON.stringify(new URL('../logger.js', import.meta.url).href)});
      const h = new SpawnHelper(silentLogger);
      await h.start(new AbortController().signal);
      console.log(h.pid);
      setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['--input-type=module', '-e', program], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const pid = Number(await new Promise<string>((resolve, reject) => {
        parent.stdout.once('data', (b: Buffer) => resolve(b.toString()));
        parent.once('exit', code => reject(new Error(`parent exited ${code} before its helper was up`)));
      }));
      assert.ok(alive(pid));
      parent.kill('SIGKILL');
      await until(`helper ${pid} gone after its parent`, () => !alive(pid) || readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '), 10_000);
    } finally {
      parent.kill('SIGKILL');
    }
  });

  test('stop ends the helper; runs after it spawn directly', async () => {
    const h = new SpawnHelper(silentLogger);
    await h.start(signal());
    const pid = h.pid!;
    await h.stop(AbortSignal.timeout(5_000));
    await until('the helper gone', () => !alive(pid));
    const res = await h.run({ file: '/bin/sh', args: ['-c', 'echo $PPID'], timeoutMs: 10_000, doing: 'ppid' }, signal());
    assert.equal(Number(res.stdout), process.pid);
    assert.equal(h.pid, undefined);
  });
});
