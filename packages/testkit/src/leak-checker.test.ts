import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { assertClean, diffSnapshots, formatLeaks, isClean, LeakChecker, LeakError, withoutExpected } from './leak-checker.js';

test('diff: only what appeared counts, kind by kind; what went away is no leak', () => {
  const report = diffSnapshots(
    { netns: ['/x/netns/a'], ips: ['net/10.0.0.2', 'net/10.0.0.3'] },
    { netns: ['/x/netns/a', '/x/netns/b'], ips: ['net/10.0.0.3'], leases: [] },
  );
  assert.deepEqual(report, { netns: ['/x/netns/b'] });
});

test('diff: repeated items count by multiplicity', () => {
  assert.deepEqual(diffSnapshots({ fds: ['/x/log', '/x/log'] }, { fds: ['/x/log', '/x/log', '/x/log'] }), { fds: ['/x/log'] });
  assert.deepEqual(diffSnapshots({ fds: ['/x/log', '/x/log'] }, { fds: ['/x/log'] }), {});
});

test('diff: a kind missing from the baseline has everything new; items are sorted', () => {
  assert.deepEqual(diffSnapshots({}, { containers: ['b', 'a'] }), { containers: ['a', 'b'] });
});

test('expected items are dropped: exact, mount point with its type, everything under a dir', () => {
  const report = { mounts: ['/x/state/netns (ext4)', '/x/state/sandboxes/1/shm (tmpfs)'], fifos: ['/x/pool/fifo-1', '/x/c/1-stdout'], leases: ['l1'] };
  assert.deepEqual(withoutExpected(report, { mounts: ['/x/state/netns'], fifos: ['/x/pool/'], leases: ['l1'] }),
    { mounts: ['/x/state/sandboxes/1/shm (tmpfs)'], fifos: ['/x/c/1-stdout'] });
  assert.deepEqual(withoutExpected(report, { mounts: ['/x/state/net'] }).mounts?.length, 2, 'a prefix of a name is no match');
});

test('isClean, formatLeaks and assertClean', () => {
  assert.equal(isClean({}), true);
  assert.equal(isClean({ ips: [] }), true);
  const report = { ips: ['net/10.0.0.2'], probes: ['observe crikitd: gone'] };
  assert.equal(isClean(report), false);
  assert.equal(formatLeaks(report), 'ips: net/10.0.0.2\nprobes: observe crikitd: gone');
  assert.doesNotThrow(() => assertClean({}, 'x'));
  assert.throws(() => assertClean(report, 'pods.test.ts'), (err: unknown) =>
    err instanceof LeakError && err.report === report && err.message.startsWith('pods.test.ts leaked:\nips: net/10.0.0.2'));
});

test('on the host: a FIFO, an IP file, a process naming the dir, an fd and a child are found; undone, nothing is', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crikit-leaks-'));
  try {
    const ipam = path.join(dir, 'ipam');
    const checker = await LeakChecker.start({ dirs: [dir], ipamDirs: [ipam] });
    execFileSync('mkfifo', [path.join(dir, 'stdout')]);
    fs.mkdirSync(path.join(ipam, 'net'), { recursive: true });
    fs.writeFileSync(path.join(ipam, 'net', '10.88.0.9'), 'ctr\neth0');
    fs.writeFileSync(path.join(ipam, 'net', 'last_reserved_ip.0'), '10.88.0.9');
    // A process naming the dir, as a shim names its containerd's socket.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30_000)', dir], { stdio: 'ignore' });
    const exited = new Promise(r => child.once('exit', r));
    // Once spawned, the child has exec'd: its command line is sleep's.
    await new Promise(r => child.once('spawn', r));
    const fd = fs.openSync(path.join(dir, 'log'), 'w');
    try {
      await checker.observeRuntime(process.pid);
      const report = await checker.check(0);
      assert.deepEqual(report.fifos, [path.join(dir, 'stdout')]);
      assert.deepEqual(report.ips, ['net/10.88.0.9'], 'reservation files only');
      const argv = `${process.execPath} -e setTimeout(() => {}, 30_000) ${dir}`;
      assert.deepEqual(report.processes, [`${child.pid} ${argv}`]);
      assert.deepEqual(report.fds, [path.join(dir, 'log')]);
      assert.deepEqual(report.children, [`${child.pid} ${argv}`]);
    } finally {
      child.kill('SIGKILL');
      await exited;
      fs.closeSync(fd);
    }
    fs.rmSync(path.join(dir, 'stdout'));
    fs.rmSync(path.join(ipam, 'net', '10.88.0.9'));
    await checker.observeRuntime(process.pid);
    assert.deepEqual(await checker.check(), {});
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a failed observation is reported, so an unchecked test never passes as clean', async () => {
  const checker = await LeakChecker.start({ dirs: [path.join(os.tmpdir(), 'crikit-leaks-none')] });
  checker.observeFailure('observe crikitd', new Error('connect ENOENT'));
  assert.deepEqual(await checker.check(0), { probes: ['observe crikitd: connect ENOENT'] });
});
