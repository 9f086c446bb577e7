import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** One field of a message, as the fuzzer needs it. */
export interface FieldSchema {
  /** The field's name as ts-proto spells it (camelCase). */
  readonly name: string;
  /** A scalar type (`string`, `int64`…), an enum or a message name. */
  readonly type: string;
  readonly repeated: boolean;
  /** `map<string, string>` fields (the only maps the CRI has). */
  readonly map: boolean;
}

/** Messages and enums of a proto file. */
export interface ProtoSchema {
  readonly messages: ReadonlyMap<string, readonly FieldSchema[]>;
  /** Enum values by enum name (nested enums by their simple name). */
  readonly enums: ReadonlyMap<string, readonly number[]>;
  /** The request message of each RPC, by RPC name. */
  readonly requests: ReadonlyMap<string, string>;
}

/** The project's copy of the CRI api.proto. */
export const criProtoPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../packages/api/proto/cri/runtime/v1/api.proto');

const camel = (s: string): string => s.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/**
 * Reads the messages and enums of a proto3 file laid out as the CRI's is (one declaration per line;
 * nested enums; no nested messages with clashing names). Enough for a fuzzer, not a general parser.
 */
export function parseProto(file = criProtoPath): ProtoSchema {
  const messages = new Map<string, FieldSchema[]>();
  const enums = new Map<string, number[]>();
  const requests = new Map<string, string>();
  const stack: { kind: 'message' | 'enum' | 'other'; name: string }[] = [];
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const line = raw.replace(/\/\/.*$/, '').trim();
    if (line === '') continue;
    let m: RegExpExecArray | null;
    if ((m = /^rpc\s+(\w+)\s*\(\s*([\w.]+)\s*\)/.exec(line))) {
      requests.set(m[1]!, m[2]!.split('.').pop()!);
      continue;
    }
    if ((m = /^(message|enum)\s+(\w+)\s*\{\s*(\})?$/.exec(line))) {
      if (m[1] === 'message') messages.set(m[2]!, []);
      else enums.set(m[2]!, []);
      if (m[3] === undefined) stack.push({ kind: m[1] as 'message' | 'enum', name: m[2]! });
      continue;
    }
    if (/\{\s*$/.test(line) && !/^rpc\b/.test(line)) { stack.push({ kind: 'other', name: '' }); continue; }
    if (line.startsWith('}')) { stack.pop(); continue; }
    const top = stack[stack.length - 1];
    if (!top) continue;
    if (top.kind === 'enum' && (m = /^(\w+)\s*=\s*(-?\d+);$/.exec(line))) enums.get(top.name)!.push(Number(m[2]));
    // A field of a message, or of a oneof inside one (the "other" block belongs to the message below it).
    const owner = top.kind === 'other' ? stack[stack.length - 2] : top;
    if (owner?.kind !== 'message') continue;
    if ((m = /^map<\s*string\s*,\s*string\s*>\s+(\w+)\s*=\s*\d+;$/.exec(line))) {
      messages.get(owner.name)!.push({ name: camel(m[1]!), type: 'string', repeated: false, map: true });
    } else if ((m = /^(repeated\s+)?([\w.]+)\s+(\w+)\s*=\s*\d+\s*(\[.*\])?;$/.exec(line))) {
      const type = m[2]!.split('.').pop()!;
      messages.get(owner.name)!.push({ name: camel(m[3]!), type, repeated: m[1] !== undefined, map: false });
    }
  }
  return { messages, enums, requests };
}
