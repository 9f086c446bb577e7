import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { taskTypes } from '@crikit/api';
import { NotFoundError, UnavailableError } from '../errors.js';
import { FakeContainerd } from '../testing/fake-containerd.js';
import { processStatusWord, taskInfo } from './process-status.js';

describe('process status words', () => {
  it('names each task status as containerd does', () => {
    const S = taskTypes.Status;
    assert.deepEqual([S.CREATED, S.RUNNING, S.STOPPED, S.PAUSED, S.PAUSING, S.UNKNOWN, S.UNRECOGNIZED, 42].map(processStatusWord),
      ['created', 'running', 'stopped', 'paused', 'pausing', 'unknown', 'unknown', 'unknown']);
  });
});

describe('taskInfo', () => {
  const signal = AbortSignal.timeout(5_000);
  it('gives the pid and the word of a task, \'\' without one, unknown when containerd fails', async () => {
    const containerd = new FakeContainerd();
    containerd.handle('tasks.get', async req => {
      if (req.containerId === 'gone') throw new NotFoundError('task gone: not found');
      return { process: taskTypes.Process.fromPartial({ pid: 42, status: taskTypes.Status.PAUSED }) };
    });
    assert.deepEqual(await taskInfo(containerd, 'c1', signal), { pid: 42, processStatus: 'paused' });
    assert.deepEqual(await taskInfo(containerd, 'gone', signal), { pid: 0, processStatus: '' });
    containerd.failNext('tasks.get', new UnavailableError('containerd is down'));
    assert.deepEqual(await taskInfo(containerd, 'c1', signal), { pid: 0, processStatus: 'unknown' });
  });
});
