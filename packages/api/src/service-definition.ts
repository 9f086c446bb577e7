import type { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';

/** Encoding functions ts-proto generates for every message. */
export interface MessageType<T> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
  decode(input: BinaryReader | Uint8Array, length?: number): T;
  fromPartial(object: any): T;
  toJSON(message: T): unknown;
}

/** One RPC of a ts-proto "generic definition". */
export interface MethodDefinition<Req = any, Res = any> {
  readonly name: string;
  readonly requestType: MessageType<Req>;
  readonly requestStream: boolean;
  readonly responseType: MessageType<Res>;
  readonly responseStream: boolean;
}

/** A ts-proto "generic definition" of a gRPC service (e.g. `tasks.TasksDefinition`). */
export interface ServiceDefinition {
  readonly name: string;
  readonly fullName: string;
  readonly methods: Readonly<Record<string, MethodDefinition>>;
}

/** The gRPC path of a method, e.g. `/containerd.services.tasks.v1.Tasks/Create`. */
export function methodPath(service: ServiceDefinition, method: MethodDefinition): string {
  return `/${service.fullName}/${method.name}`;
}

/** The request type of a method. */
export type RequestOf<M> = M extends MethodDefinition<infer Req, any> ? Req : never;
/** The response type of a method. */
export type ResponseOf<M> = M extends MethodDefinition<any, infer Res> ? Res : never;

/** What a ts-proto `fromPartial` accepts: every field optional, all the way down. */
export type PartialMessage<T> = T extends bigint ? string | number | bigint
  : T extends Date | Function | Uint8Array | string | number | boolean | undefined ? T
  : T extends globalThis.Array<infer U> ? globalThis.Array<PartialMessage<U>>
  : T extends ReadonlyArray<infer U> ? ReadonlyArray<PartialMessage<U>>
  : T extends {} ? { [K in keyof T]?: PartialMessage<T[K]> }
  : Partial<T>;
