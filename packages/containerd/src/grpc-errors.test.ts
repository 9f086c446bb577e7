import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import {
  AlreadyExistsError, CancelledError, DeadlineExceededError, FailedPreconditionError, InternalError,
  InvalidArgumentError, NotFoundError, ResourceExhaustedError, UnavailableError, UnimplementedError,
  errorKind, isNotFound,
} from '@crikit/core';
import { fromGrpcError } from './grpc-errors.js';

/** A ServiceError as grpc-js builds one from a status. */
function serviceError(code: GrpcStatus, details: string): ServiceError {
  return Object.assign(new Error(`${code} ${GrpcStatus[code]}: ${details}`), { code, details, metadata: new Metadata() });
}

describe('fromGrpcError', () => {
  const cases: ReadonlyArray<[GrpcStatus, Function]> = [
    [GrpcStatus.NOT_FOUND, NotFoundError],
    [GrpcStatus.ALREADY_EXISTS, AlreadyExistsError],
    [GrpcStatus.INVALID_ARGUMENT, InvalidArgumentError],
    [GrpcStatus.FAILED_PRECONDITION, FailedPreconditionError],
    [GrpcStatus.UNAVAILABLE, UnavailableError],
    [GrpcStatus.DEADLINE_EXCEEDED, DeadlineExceededError],
    [GrpcStatus.CANCELLED, CancelledError],
    [GrpcStatus.UNIMPLEMENTED, UnimplementedError],
    [GrpcStatus.RESOURCE_EXHAUSTED, ResourceExhaustedError],
    [GrpcStatus.OK, InternalError],
    [GrpcStatus.UNKNOWN, InternalError],
    [GrpcStatus.PERMISSION_DENIED, InternalError],
    [GrpcStatus.ABORTED, InternalError],
    [GrpcStatus.OUT_OF_RANGE, InternalError],
    [GrpcStatus.INTERNAL, InternalError],
    [GrpcStatus.DATA_LOSS, InternalError],
    [GrpcStatus.UNAUTHENTICATED, InternalError],
  ];
  for (const [code, ErrorClass] of cases) {
    it(`maps ${GrpcStatus[code]} to ${ErrorClass.name}`, () => {
      const original = serviceError(code, 'container "abc": not found');
      const err = fromGrpcError(original, 'containerd tasks.create');
      assert.ok(err instanceof ErrorClass, `got ${err.name}`);
      assert.equal(err.message, 'containerd tasks.create: container "abc": not found');
      assert.equal(err.cause, original);
    });
  }

  it('covers every gRPC status code', () => {
    const numeric = Object.values(GrpcStatus).filter((v): v is number => typeof v === 'number');
    assert.deepEqual(new Set(cases.map(([code]) => code)), new Set(numeric));
  });

  it('is found by the kind helpers through a cause chain', () => {
    const inner = fromGrpcError(serviceError(GrpcStatus.NOT_FOUND, 'image "x": not found'), 'containerd images.get');
    const outer = new Error('resolve image', { cause: inner });
    assert.ok(isNotFound(outer));
  });

  it('names the status when containerd sent no details', () => {
    const err = fromGrpcError(serviceError(GrpcStatus.DEADLINE_EXCEEDED, ''), 'containerd version.version');
    assert.equal(err.message, 'containerd version.version: deadline exceeded');
  });

  it('passes a crikit error through unchanged', () => {
    const original = new UnavailableError('containerd client closed');
    assert.equal(fromGrpcError(original, 'containerd tasks.get'), original);
  });

  it('turns anything else into an InternalError', () => {
    const plain = new TypeError('boom');
    const err = fromGrpcError(plain, 'containerd content.write');
    assert.ok(err instanceof InternalError);
    assert.equal(err.message, 'containerd content.write: boom');
    assert.equal(errorKind(fromGrpcError('weird', 'x')), 'internal');
  });
});
