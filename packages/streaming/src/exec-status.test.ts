import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorStreamPayload, statusJson } from './exec-status.js';

describe('exec status on the error stream', () => {
  it('v4 and v5 carry metav1.Status JSON: Success, or NonZeroExitCode with the code in details.causes', () => {
    assert.deepEqual(JSON.parse(errorStreamPayload('v4.channel.k8s.io', { kind: 'exited', exitCode: 0, cmd: ['true'] })!.toString()), { metadata: {}, status: 'Success' });
    const failed = JSON.parse(errorStreamPayload('v5.channel.k8s.io', { kind: 'exited', exitCode: 3, cmd: ['sh', '-c', 'exit 3'] })!.toString());
    assert.equal(failed.status, 'Failure');
    assert.equal(failed.reason, 'NonZeroExitCode');
    assert.deepEqual(failed.details.causes, [{ reason: 'ExitCode', message: '3' }]);
    assert.match(failed.message, /non-zero exit code/);
  });

  it('older protocols carry only the message of a failure, and nothing on success', () => {
    assert.equal(errorStreamPayload('v3.channel.k8s.io', { kind: 'exited', exitCode: 0, cmd: ['true'] }), undefined);
    assert.match(errorStreamPayload('channel.k8s.io', { kind: 'exited', exitCode: 2, cmd: ['false'] })!.toString(), /^command terminated with non-zero exit code/);
    assert.equal(statusJson({ kind: 'error', message: 'boom' }).reason, 'InternalError');
  });
});
