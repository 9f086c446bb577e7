import assert from 'node:assert/strict';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import * as core from '@crikit/core';
import { grpcStatusOf } from './grpc-status.js';

test('each error kind maps to its gRPC status; anything else is UNKNOWN', () => {
  const cases: [core.CriError, status][] = [
    [new core.InvalidArgumentError('x'), status.INVALID_ARGUMENT],
    [new core.NotFoundError('x'), status.NOT_FOUND],
    [new core.AlreadyExistsError('x'), status.ALREADY_EXISTS],
    [new core.FailedPreconditionError('x'), status.FAILED_PRECONDITION],
    [new core.ResourceExhaustedError('x'), status.RESOURCE_EXHAUSTED],
    [new core.PermissionDeniedError('x'), status.PERMISSION_DENIED],
    [new core.UnavailableError('x'), status.UNAVAILABLE],
    [new core.UnimplementedError('x'), status.UNIMPLEMENTED],
    [new core.CancelledError('x'), status.CANCELLED],
    [new core.DeadlineExceededError('x'), status.DEADLINE_EXCEEDED],
    [new core.InternalError('x'), status.INTERNAL],
  ];
  for (const [err, code] of cases) assert.equal(grpcStatusOf(err), code, err.kind);
  assert.equal(grpcStatusOf(new TypeError('bug')), status.UNKNOWN);
  assert.equal(grpcStatusOf('a string'), status.UNKNOWN);
});
