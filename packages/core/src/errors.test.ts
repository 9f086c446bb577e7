import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  abortError, AlreadyExistsError, CancelledError, DeadlineExceededError, errorKind, isNotFound, isUnavailable,
  NotFoundError, throwIfAborted, UnavailableError,
} from './errors.js';

describe('errorKind', () => {
  it('walks the cause chain to the first CriError', () => {
    const root = new NotFoundError('image "x" not found');
    const wrapped = new Error('pull image "x"', { cause: new Error('resolve', { cause: root }) });
    assert.equal(errorKind(wrapped), 'not-found');
    assert.equal(isNotFound(wrapped), true);
    assert.equal(isUnavailable(wrapped), false);
  });

  it('takes the outermost CriError when several are chained', () => {
    const err = new UnavailableError('create sandbox', { cause: new AlreadyExistsError('name') });
    assert.equal(errorKind(err), 'unavailable');
  });

  it('gives undefined for plain errors and non-errors, and survives a cause cycle', () => {
    assert.equal(errorKind(new Error('bug')), undefined);
    assert.equal(errorKind('text'), undefined);
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    assert.equal(errorKind(a), undefined);
  });

  it('names errors after their class', () => {
    assert.equal(new NotFoundError('x').name, 'NotFoundError');
  });
});

describe('abortError', () => {
  it('turns a timeout into DeadlineExceededError and an abort into CancelledError', () => {
    const timedOut = AbortSignal.abort(new DOMException('timed out', 'TimeoutError'));
    assert.ok(abortError(timedOut, 'pull') instanceof DeadlineExceededError);
    assert.ok(abortError(AbortSignal.abort(), 'pull') instanceof CancelledError);
    assert.throws(() => throwIfAborted(AbortSignal.abort(), 'stop'), /stop: cancelled/);
    throwIfAborted(new AbortController().signal, 'stop');
  });
});
