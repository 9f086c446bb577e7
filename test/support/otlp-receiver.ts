// An OTLP/HTTP traces receiver on 127.0.0.1 for tests: takes protobuf POSTs to /v1/traces, as an
// OpenTelemetry collector would, and decodes the spans with a small protobuf wire reader. Field numbers
// from https://github.com/open-telemetry/opentelemetry-proto/blob/main/opentelemetry/proto/trace/v1/trace.proto
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';

/** A span as the receiver decoded it (ids in hex). */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  /** 1 internal, 2 server, 3 client (the OTLP SpanKind enum). */
  readonly kind: number;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  /** 0 unset, 1 ok, 2 error. */
  readonly statusCode: number;
  readonly statusMessage: string;
  /** The resource's service.name. */
  readonly service: string;
}

/** A running receiver: its URL, the spans and requests it got. */
export interface OtlpReceiver {
  readonly url: string;
  readonly spans: ReceivedSpan[];
  /** Content types of the requests, in order. */
  readonly contentTypes: string[];
  close(): Promise<void>;
}

/** Starts a receiver on 127.0.0.1 (a free port). */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') { res.writeHead(404).end(); return; }
      contentTypes.push(req.headers['content-type'] ?? '');
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
      spans.push(...decodeExportRequest(body));
      // An empty ExportTraceServiceResponse: everything accepted.
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`, spans, contentTypes,
    close: () => new Promise(resolve => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

type Field = { n: number; varint?: bigint; bytes?: Buffer; fixed?: Buffer };

/** The fields of one protobuf message, in order. */
function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = buf[i++]!;
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
    }
  };
  while (i < buf.length) {
    const tag = Number(varint());
    const n = tag >>> 3;
    switch (tag & 7) {
      case 0: out.push({ n, varint: varint() }); break;
      case 1: out.push({ n, fixed: buf.subarray(i, i + 8) }); i += 8; break;
      case 2: { const len = Number(varint()); out.push({ n, bytes: buf.subarray(i, i + len) }); i += len; break; }
      case 5: out.push({ n, fixed: buf.subarray(i, i + 4) }); i += 4; break;
      default: throw new Error(`unsupported wire type ${tag & 7}`);
    }
  }
  return out;
}

const all = (msg: Buffer, n: number): Buffer[] => fields(msg).filter(f => f.n === n && f.bytes).map(f => f.bytes!);
const one = (msg: Buffer, n: number): Buffer | undefined => all(msg, n)[0];
const num = (msg: Buffer, n: number): number => Number(fields(msg).find(f => f.n === n)?.varint ?? 0n);

// KeyValue { 1 key; 2 AnyValue { 1 string, 2 bool, 3 int64, 4 double } }
function attributes(kvs: Buffer[]): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const kv of kvs) {
    const key = one(kv, 1)?.toString('utf8') ?? '';
    const value = one(kv, 2) ?? Buffer.alloc(0);
    const f = fields(value)[0];
    if (!f) continue;
    if (f.n === 1) out[key] = f.bytes!.toString('utf8');
    else if (f.n === 2) out[key] = f.varint !== 0n;
    else if (f.n === 3) out[key] = Number(f.varint);
    else if (f.n === 4) out[key] = f.fixed!.readDoubleLE(0);
  }
  return out;
}

// ExportTraceServiceRequest { 1 ResourceSpans { 1 Resource { 1 attributes }; 2 ScopeSpans { 2 Span } } }
// Span { 1 trace_id; 2 span_id; 4 parent_span_id; 5 name; 6 kind; 9 attributes; 15 Status { 2 message; 3 code } }
function decodeExportRequest(body: Buffer): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const rs of all(body, 1)) {
    const resource = one(rs, 1);
    const service = String((resource ? attributes(all(resource, 1)) : {})['service.name'] ?? '');
    for (const ss of all(rs, 2)) {
      for (const s of all(ss, 2)) {
        const status = one(s, 15) ?? Buffer.alloc(0);
        spans.push({
          traceId: one(s, 1)?.toString('hex') ?? '',
          spanId: one(s, 2)?.toString('hex') ?? '',
          parentSpanId: one(s, 4)?.toString('hex') ?? '',
          name: one(s, 5)?.toString('utf8') ?? '',
          kind: num(s, 6),
          attributes: attributes(all(s, 9)),
          statusCode: num(status, 3),
          statusMessage: one(status, 2)?.toString('utf8') ?? '',
          service,
        });
      }
    }
  }
  return spans;
}
