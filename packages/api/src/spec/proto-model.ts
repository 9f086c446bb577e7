import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import protobuf from 'protobufjs';

/** protobufjs ships google/protobuf/descriptor.proto, which upstream field options import. */
const protobufjsDir = path.dirname(createRequire(import.meta.url).resolve('protobufjs'));

/** One field as the wire sees it. */
export interface FieldShape { number: number; type: string; repeated: boolean; keyType?: string; oneof?: string }
/** A flattened description of a set of .proto files: messages, enums and RPCs by full name. */
export interface ProtoModel {
  messages: Map<string, Map<string, FieldShape>>;
  enums: Map<string, Map<string, number>>;
  methods: Map<string, { request: string; response: string; requestStream: boolean; responseStream: boolean }>;
}

/** Every .proto file under `dir`, relative to it. */
export function protoFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.proto')) out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * Loads `files` (relative to one of `roots`) with imports resolved across `roots`, and flattens them.
 * google/protobuf/* imports come from protobufjs.
 */
export function loadModel(roots: string[], files: string[]): ProtoModel {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    for (const r of [...roots, protobufjsDir]) if (fs.existsSync(path.join(r, target))) return path.join(r, target);
    return null;
  };
  for (const f of files) root.loadSync(f, { keepCase: true });
  root.resolveAll();
  const model: ProtoModel = { messages: new Map(), enums: new Map(), methods: new Map() };
  visit(root, model);
  return model;
}

function visit(ns: protobuf.NamespaceBase, model: ProtoModel): void {
  for (const obj of ns.nestedArray) {
    const name = obj.fullName.replace(/^\./, '');
    if (obj instanceof protobuf.Type) {
      const fields = new Map<string, FieldShape>();
      for (const f of obj.fieldsArray) {
        const type = f.resolvedType ? f.resolvedType.fullName.replace(/^\./, '') : f.type;
        const shape: FieldShape = { number: f.id, type, repeated: f.repeated };
        if (f instanceof protobuf.MapField) shape.keyType = f.keyType;
        if (f.partOf && !f.partOf.name.startsWith('_')) shape.oneof = f.partOf.name;
        fields.set(f.name, shape);
      }
      model.messages.set(name, fields);
    } else if (obj instanceof protobuf.Enum) {
      model.enums.set(name, new Map(Object.entries(obj.values)));
    } else if (obj instanceof protobuf.Service) {
      for (const m of obj.methodsArray) {
        m.resolve();
        model.methods.set(`${name}.${m.name}`, {
          request: m.resolvedRequestType!.fullName.replace(/^\./, ''),
          response: m.resolvedResponseType!.fullName.replace(/^\./, ''),
          requestStream: Boolean(m.requestStream),
          responseStream: Boolean(m.responseStream),
        });
      }
    }
    if (obj instanceof protobuf.Namespace || obj instanceof protobuf.Type) visit(obj, model);
  }
}
