import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { CancelledError, DeadlineExceededError, errorKind, silentLogger, UnavailableError } from '@crikit/core';
import { CniPluginError } from './cni-plugin-error.js';
import { CniPluginExec } from './cni-plugin-exec.js';
import { networkCniConfigSchema } from './network-cni-config.js';
import { FakeCniBin } from './testing/fake-cni-bin.js';

const signal = (): AbortSignal => AbortSignal.timeout(10_000);
const doing = 'attach pod "web/default" to cni network "test"';

describe('CniPluginExec', () => {
  let bin: FakeCniBin;
  let otherDir: string;
  let exec: CniPluginExec;

  before(async () => {
    bin = await FakeCniBin.create();
    otherDir = path.join(bin.root, 'other-bin');
    await fs.mkdir(otherDir);
    const config = networkCniConfigSchema.parse({ binDirs: [otherDir, bin.binDir], pluginTimeoutMs: 500 });
    exec = new CniPluginExec(config, silentLogger);
  });
  after(() => bin.cleanup());
  beforeEach(() => bin.clearCalls());

  it('passes the CNI_* environment and the config on stdin, and parses the result', async () => {
    await bin.plugin('fake', { ADD: `echo '{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.2/24"}]}'` });
    const config = { type: 'fake', name: 'test', cniVersion: '1.0.0', extra: { a: 1 } };
    const result = await exec.exec({ command: 'ADD', config, containerId: 'c1', netns: '/run/ns/x', ifName: 'eth0', args: 'IgnoreUnknown=1;A=b', doing }, signal());
    assert.deepEqual(result, { cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24' }] });
    const [call] = await bin.calls();
    assert.deepEqual({ ...call, stdin: undefined }, {
      plugin: 'fake', command: 'ADD', containerId: 'c1', netns: '/run/ns/x', ifName: 'eth0', args: 'IgnoreUnknown=1;A=b',
      path: `${otherDir}:${bin.binDir}`, stdin: undefined,
    });
    assert.deepEqual(call!.stdin, config);
  });

  it('leaves CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME and CNI_ARGS unset when not given (STATUS, GC)', async () => {
    await bin.plugin('fake');
    assert.equal(await exec.exec({ command: 'STATUS', config: { type: 'fake' }, doing }, signal()), undefined);
    const [call] = await bin.calls();
    assert.equal(call!.command, 'STATUS');
    assert.equal(call!.containerId, '<unset>');
    assert.equal(call!.netns, '<unset>');
    assert.equal(call!.ifName, '<unset>');
    assert.equal(call!.args, '<unset>');
  });

  it('takes the plugin from the first bin dir that has it', async () => {
    await bin.plugin('dup', { ADD: `echo '{"from":"second"}'` });
    await bin.plugin('dup', { ADD: `echo '{"from":"first"}'` }, otherDir);
    assert.deepEqual(await exec.exec({ command: 'ADD', config: { type: 'dup' }, doing }, signal()), { from: 'first' });
    assert.equal(await exec.find('dup', doing), path.join(otherDir, 'dup'));
  });

  it('reports a missing plugin as unavailable, naming it and the bin dirs', async () => {
    await assert.rejects(exec.exec({ command: 'ADD', config: { type: 'nope' }, doing }, signal()), (err: Error) => {
      assert.ok(err instanceof UnavailableError);
      assert.match(err.message, /^attach pod "web\/default" to cni network "test": cni plugin "nope" not found in /);
      return true;
    });
    await assert.rejects(exec.find('../bridge', doing), { name: 'FailedPreconditionError' });
  });

  it('turns a CNI error object into a CniPluginError with its code, msg and details', async () => {
    await bin.plugin('bad', { ADD: `echo '{"cniVersion":"1.0.0","code":7,"msg":"invalid network config","details":"no bridge name"}'; exit 1` });
    await assert.rejects(exec.exec({ command: 'ADD', config: { type: 'bad' }, doing }, signal()), (err: Error) => {
      assert.ok(err instanceof CniPluginError);
      assert.equal(errorKind(err), 'failed-precondition');
      assert.equal(err.plugin, 'bad');
      assert.equal(err.command, 'ADD');
      assert.equal(err.code, 7);
      assert.equal(err.msg, 'invalid network config');
      assert.equal(err.details, 'no bridge name');
      assert.equal(err.message, `${doing}: plugin "bad" ADD: invalid network config: no bridge name (code 7)`);
      return true;
    });
  });

  it('reports "try again later" (code 11) as unavailable, with the plugin error as the cause', async () => {
    await bin.plugin('busy', { ADD: `echo '{"code":11,"msg":"ipam busy"}'; exit 1` });
    await assert.rejects(exec.exec({ command: 'ADD', config: { type: 'busy' }, doing }, signal()), (err: Error) => {
      assert.ok(err instanceof UnavailableError);
      assert.ok(err.cause instanceof CniPluginError);
      assert.match(err.message, /plugin "busy" ADD: ipam busy \(code 11\)$/);
      return true;
    });
  });

  it('falls back to stderr when a failing plugin prints no error object', async () => {
    await bin.plugin('crash', { DEL: `echo 'panic: boom' >&2; exit 2` });
    await assert.rejects(exec.exec({ command: 'DEL', config: { type: 'crash' }, doing }, signal()), (err: Error) => {
      assert.ok(err instanceof CniPluginError);
      assert.equal(err.code, 0);
      assert.equal(err.msg, 'panic: boom');
      return true;
    });
  });

  it('rejects a result that is not JSON', async () => {
    await bin.plugin('junk', { ADD: 'echo not-json' });
    await assert.rejects(exec.exec({ command: 'ADD', config: { type: 'junk' }, doing }, signal()), CniPluginError);
  });

  it('kills a plugin that outlives pluginTimeoutMs, with DeadlineExceededError', async () => {
    const pidFile = path.join(bin.root, 'slow.pid');
    await bin.plugin('slow', { ADD: `echo $$ > ${pidFile}; exec sleep 30` });
    const started = Date.now();
    await assert.rejects(exec.exec({ command: 'ADD', config: { type: 'slow' }, doing }, signal()), (err: Error) => {
      assert.ok(err instanceof DeadlineExceededError);
      assert.match(err.message, /plugin "slow" ADD: no answer within 500ms, killed$/);
      return true;
    });
    assert.ok(Date.now() - started < 5_000);
    const pid = Number(await fs.readFile(pidFile, 'utf8'));
    await waitUntilGone(pid);
  });

  it('kills the plugin when the caller aborts, with CancelledError', async () => {
    await bin.plugin('slow2', { ADD: 'exec sleep 30' });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(exec.exec({ command: 'ADD', config: { type: 'slow2' }, doing }, ac.signal), CancelledError);
  });
});

async function waitUntilGone(pid: number): Promise<void> {
  for (let i = 0; i < 50; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise(r => setTimeout(r, 20));
  }
  assert.fail(`plugin process ${pid} still runs`);
}
