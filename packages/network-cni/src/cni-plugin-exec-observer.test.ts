import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { silentLogger, type RuntimeObserver } from '@crikit/core';
import { CniPluginExec } from './cni-plugin-exec.js';
import { networkCniConfigSchema } from './network-cni-config.js';
import { FakeCniBin } from './testing/fake-cni-bin.js';

/** Records what it is told. */
class RecordingObserver implements RuntimeObserver {
  readonly runs: { plugin: string; command: string; seconds: number; outcome: string }[] = [];
  cniPluginFinished(plugin: string, command: string, seconds: number, outcome: 'ok' | 'error'): void {
    this.runs.push({ plugin, command, seconds, outcome });
  }
  containerdReconnected(): void {}
}

let bin: FakeCniBin;
before(async () => { bin = await FakeCniBin.create(); });
after(() => bin.cleanup());

it('tells the RuntimeObserver how long each plugin ran and whether it failed or was killed', async () => {
  const observer = new RecordingObserver();
  const exec = new CniPluginExec(networkCniConfigSchema.parse({ binDirs: [bin.binDir], pluginTimeoutMs: 500 }), silentLogger, observer);
  await bin.plugin('good', { ADD: `echo '{"cniVersion":"1.0.0"}'` });
  await bin.plugin('bad', { ADD: 'exit 3' });
  await bin.plugin('slow', { DEL: 'sleep 5' });
  const doing = 'test';
  await exec.exec({ command: 'ADD', config: { type: 'good' }, doing }, AbortSignal.timeout(10_000));
  await assert.rejects(exec.exec({ command: 'ADD', config: { type: 'bad' }, doing }, AbortSignal.timeout(10_000)));
  await assert.rejects(exec.exec({ command: 'DEL', config: { type: 'slow' }, doing }, AbortSignal.timeout(10_000)));
  assert.deepEqual(observer.runs.map(r => [r.plugin, r.command, r.outcome]), [['good', 'ADD', 'ok'], ['bad', 'ADD', 'error'], ['slow', 'DEL', 'error']]);
  assert.ok(observer.runs[2]!.seconds >= 0.4, 'the killed plugin ran until the timeout');
  assert.ok(observer.runs.every(r => r.seconds >= 0 && r.seconds < 5));
});
