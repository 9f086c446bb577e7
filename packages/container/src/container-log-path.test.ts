import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError } from '@crikit/core';
import { containerLogPath } from './container-log-path.js';

const dir = '/var/log/pods/default_web_uid';

test('a log_path under the pod log directory is joined to it', () => {
  assert.equal(containerLogPath(dir, 'app/0.log'), `${dir}/app/0.log`);
  assert.equal(containerLogPath(dir, 'app/../app/1.log'), `${dir}/app/1.log`);
  // A leading slash is still relative to the pod's directory, as filepath.Join makes it.
  assert.equal(containerLogPath(dir, '/app/0.log'), `${dir}/app/0.log`);
  assert.equal(containerLogPath('', 'app/0.log'), '');
  assert.equal(containerLogPath(dir, ''), '');
});

test('a log_path climbing out of the pod log directory is INVALID_ARGUMENT naming the field', () => {
  for (const bad of ['../../../../etc/cron.d/x', 'app/../../other_pod/0.log', '..', '.', 'app/../..']) {
    assert.throws(() => containerLogPath(dir, bad), (e: Error) => e instanceof InvalidArgumentError && e.message.includes('log_path'), bad);
  }
});
