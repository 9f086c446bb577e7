import * as grpc from '@grpc/grpc-js';
import { methodPath, type MethodDefinition, type PartialMessage, type RequestOf, type ResponseOf, type ServiceDefinition } from '@crikit/api';
import { InvalidArgumentError, UnimplementedError } from '@crikit/core';

/** Handles a unary RPC: the decoded request and a signal that fires when the caller goes away or its deadline passes. */
export type UnaryHandler<M> = (req: RequestOf<M>, signal: AbortSignal) => Promise<PartialMessage<ResponseOf<M>>>;
/** Handles a server-streaming RPC by yielding responses. */
export type StreamHandler<M> = (req: RequestOf<M>, signal: AbortSignal) => AsyncIterable<PartialMessage<ResponseOf<M>>>;

/** Handlers for some or all RPCs of a service; a missing one answers UNIMPLEMENTED. */
export type ServiceHandlers<S extends ServiceDefinition> = {
  [K in keyof S['methods']]?: S['methods'][K] extends { responseStream: true } ? StreamHandler<S['methods'][K]> : UnaryHandler<S['methods'][K]>;
};

/** What wraps every call: readiness, logging, the signal, error mapping (see rpc-wrapper.ts). */
export interface RpcWrapper {
  unary(rpc: string, handler: (req: any, signal: AbortSignal) => Promise<unknown>, call: grpc.ServerUnaryCall<any, any>, done: grpc.sendUnaryData<any>): void;
  stream(rpc: string, handler: (req: any, signal: AbortSignal) => AsyncIterable<unknown>, call: grpc.ServerWritableStream<any, any>): void;
}

/**
 * Builds a grpc-js service definition and implementation from a ts-proto generic definition.
 * Responses are completed with `fromPartial`, so handlers return only the fields they set.
 */
export function defineService<S extends ServiceDefinition>(def: S, handlers: ServiceHandlers<S>, wrap: RpcWrapper):
  { service: grpc.ServiceDefinition; implementation: grpc.UntypedServiceImplementation } {
  const service: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const [key, method] of Object.entries(def.methods) as [string, MethodDefinition][]) {
    const rpc = `${def.name}/${method.name}`;
    service[key] = {
      path: methodPath(def, method),
      requestStream: method.requestStream,
      responseStream: method.responseStream,
      requestSerialize: (v: unknown) => Buffer.from(method.requestType.encode(v).finish()),
      requestDeserialize: (b: Buffer) => decodeRequest(method, b),
      responseSerialize: (v: unknown) => Buffer.from(method.responseType.encode(method.responseType.fromPartial(v)).finish()),
      responseDeserialize: (b: Buffer) => method.responseType.decode(b),
    };
    const given = (handlers as Record<string, ((req: unknown, signal: AbortSignal) => unknown) | undefined>)[key];
    const handler = given && refuseMalformed(rpc, given);
    if (method.responseStream) {
      const h = (handler ?? unimplementedStream(rpc)) as (req: unknown, s: AbortSignal) => AsyncIterable<unknown>;
      implementation[key] = (call: grpc.ServerWritableStream<unknown, unknown>) => wrap.stream(rpc, h, call);
    } else {
      const h = (handler ?? unimplemented(rpc)) as (req: unknown, s: AbortSignal) => Promise<unknown>;
      implementation[key] = (call: grpc.ServerUnaryCall<unknown, unknown>, done: grpc.sendUnaryData<unknown>) => wrap.unary(rpc, h, call, done);
    }
  }
  return { service, implementation };
}

/** What a request that is not valid protobuf decodes to; its RPC answers INVALID_ARGUMENT. */
class MalformedRequest {
  constructor(readonly reason: string) {}
}

// grpc-js answers INTERNAL when requestDeserialize throws; bytes a client sent are bad input, so
// they decode to a marker the handler wrapper turns into INVALID_ARGUMENT.
function decodeRequest(method: MethodDefinition, bytes: Buffer): unknown {
  try {
    return method.requestType.decode(bytes);
  } catch (err) {
    return new MalformedRequest(err instanceof Error ? err.message : String(err));
  }
}

function refuseMalformed<F extends (req: unknown, signal: AbortSignal) => unknown>(rpc: string, handler: F): F {
  return ((req: unknown, signal: AbortSignal) => {
    if (req instanceof MalformedRequest) throw new InvalidArgumentError(`${rpc}: the request is not a valid protobuf message: ${req.reason}`);
    return handler(req, signal);
  }) as F;
}

const unimplemented = (rpc: string) => async (): Promise<never> => {
  throw new UnimplementedError(`${rpc} is not implemented by crikit yet`);
};
const unimplementedStream = (rpc: string) => async function* (): AsyncIterable<never> {
  throw new UnimplementedError(`${rpc} is not implemented by crikit yet`);
};
