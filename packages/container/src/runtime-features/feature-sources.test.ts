import assert from 'node:assert/strict';
import os from 'node:os';
import { describe, it } from 'node:test';
import { HostFeatureSources } from './feature-sources.js';

describe('HostFeatureSources', () => {
  const sources = new HostFeatureSources({ rootDir: '/nonexistent/crikit-root', stateDir: '/nonexistent/crikit-state' });
  const signal = new AbortController().signal;
  it('says why a binary gives no features: missing, or a non-zero exit with its last stderr line', async () => {
    await assert.rejects(sources.runtimeFeatures('/nonexistent/runc', signal), /^Error: \/nonexistent\/runc features: ENOENT$/);
    // `sh features` tries to run a script called "features" and fails.
    await assert.rejects(sources.runtimeFeatures('sh', signal), /^Error: sh features: exit status \d+: .*features/);
  });
  it('reads a binary\'s --version, or says why it could not', async () => {
    assert.match(await sources.runtimeVersion(process.execPath, signal), /^v\d+\./);
    await assert.rejects(sources.runtimeVersion('/nonexistent/crun', signal), /^Error: \/nonexistent\/crun --version: ENOENT$/);
  });
  it('stops a binary when the signal fires', async () => {
    const stop = new AbortController();
    stop.abort();
    await assert.rejects(sources.runtimeFeatures('sh', stop.signal), /ABORT_ERR/);
  });
  it('reads the running kernel', async () => {
    const kernel = await sources.kernel();
    assert.equal(kernel.release, os.release());
    assert.equal(typeof kernel.userNamespaces, 'boolean');
  });
});
