import path from 'node:path';
import fc from 'fast-check';
import type { FieldSchema, ProtoSchema } from './proto-schema.js';

/** What generated requests may refer to: live ids and names, and a scratch directory on the host. */
export interface FuzzPool {
  /** Sandbox, container and exec ids, and image ids, as they are now. */
  ids(): readonly string[];
  /** Image references that exist in the local registry or in crikit. */
  images(): readonly string[];
  /** A directory the fuzzer owns: every host path it sends lies below it (or is a fixed device path). */
  readonly dir: string;
}

type Arb = fc.Arbitrary<unknown>;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

const nastyStrings = ['', ' ', '.', '..', '/', '../../../../etc/passwd', 'a\u0000b', '\u0000bigint:1', 'line\nbreak', '%s%n', '\u202e', 'ü', '*', 'x'.repeat(300), 'y'.repeat(70_000)];
/** Strings: short ones, unicode, the nasty ones above, and sometimes long ones. */
export const anyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 2, arbitrary: fc.constantFrom(...nastyStrings) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ minLength: 200, maxLength: 2_000 }) },
);

const scalar: Record<string, Arb> = {
  string: anyString,
  bool: fc.boolean(),
  bytes: fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.constantFrom(new Uint8Array(), new Uint8Array([0]))).map(a => Buffer.from(a)),
  int64: fc.oneof(fc.constantFrom(0n, -1n, 1n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 53n + 1n, INT64_MAX, INT64_MIN), fc.bigInt({ min: INT64_MIN, max: INT64_MAX })),
  sint64: fc.bigInt({ min: INT64_MIN, max: INT64_MAX }),
  uint64: fc.oneof(fc.constantFrom(0n, 1n, 2n ** 32n, 2n ** 63n, UINT64_MAX), fc.bigInt({ min: 0n, max: UINT64_MAX })),
  int32: fc.oneof(fc.constantFrom(0, -1, 1, 2 ** 31 - 1, -(2 ** 31)), fc.integer()),
  uint32: fc.oneof(fc.constantFrom(0, 1, 2 ** 32 - 1, 65_535, 65_536), fc.nat({ max: 2 ** 32 - 1 })),
  double: fc.oneof(fc.double(), fc.constantFrom(0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_VALUE)),
  float: fc.float(),
};

/**
 * Fields whose values reach the host (paths, cgroups, ports) get values kept inside the fuzzer's
 * sandbox, with the malformed ones crikit must refuse: a fuzzer must not write outside its own
 * directory, hijack host ports or reach the internet.
 */
function fieldOverride(field: FieldSchema, pool: FuzzPool): Arb | undefined {
  const inDir = (...p: string[]): string => path.join(pool.dir, ...p);
  const pick = (list: () => readonly string[]): fc.Arbitrary<string> =>
    fc.nat().map(i => { const l = list(); return l.length === 0 ? '' : l[i % l.length]!; });
  const id = fc.oneof(
    { weight: 5, arbitrary: pick(pool.ids) },
    { weight: 2, arbitrary: fc.tuple(pick(pool.ids), fc.integer({ min: 1, max: 12 })).map(([s, n]) => s.slice(0, n)) },
    { weight: 1, arbitrary: fc.stringMatching(/^[0-9a-f]{64}$/) },
    { weight: 2, arbitrary: anyString },
  );
  switch (field.name) {
    case 'podSandboxId': case 'containerId': case 'id': case 'targetId': case 'execId':
      return id;
    case 'image': case 'imageRef': case 'userSpecifiedImage': case 'imageId':
      return fc.oneof({ weight: 3, arbitrary: pick(pool.images) }, { weight: 1, arbitrary: id },
        { weight: 2, arbitrary: fc.constantFrom('busybox', 'nonexistent.invalid/x:1', '127.0.0.1:9/x:y', 'UPPER/case', 'a@sha256:1234', 'x:y:z', '') },
        { weight: 1, arbitrary: anyString });
    case 'hostPath':
      return fc.constantFrom('', 'relative', '/dev/null', '/dev/zero', '/dev', '/', '/nonexistent-crikit-fuzz', inDir('vol'), inDir('vol', 'file'),
        inDir('missing'), inDir('vol', '..', 'vol'), inDir('dev-link'), inDir('deep'));
    case 'logDirectory':
      return fc.oneof(fc.constantFrom('', 'relative', inDir('logs', 'a'), inDir('logs', 'b', '..', 'c')), fc.string({ maxLength: 8 }).map(s => inDir('logs', s.replace(/[/\0]/g, '_'))));
    case 'cgroupParent':
      return fc.constantFrom('', 'relative', '/crikit-fuzz', '/crikit-fuzz/a', '/crikit-fuzz/../crikit-fuzz', 'crikit-fuzz.slice');
    case 'localhostRef': case 'seccompProfilePath': case 'apparmorProfile':
      return fc.constantFrom('', 'nonexistent.json', 'localhost/x', 'runtime/default', 'unconfined', inDir('none.json'), inDir('profile.json'), '/dev/null');
    case 'hostPort':
      return fc.constantFrom(0, -1, 39_501, 65_536, 2 ** 31 - 1);
    case 'hostIp':
      return fc.constantFrom('', '127.0.0.1', '0.0.0.0', 'not-an-ip', '::1', '10.255.255.1');
    case 'command': case 'args':
      return fc.oneof(fc.constantFrom(['sleep', '1000'], ['true'], ['/bin/sh', '-c', 'exit 3'], ['/nonexistent'], [''], [], ['sleep', '0.1']),
        fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }));
    case 'cmd':
      // ExecSync and Exec: commands that end by themselves (ExecSync without timeout waits for them).
      return fc.oneof(fc.constantFrom(['true'], ['/bin/sh', '-c', 'exit 3'], ['/bin/sh', '-c', 'echo out; echo err >&2'], ['/nonexistent'], [''], [], ['sleep', '0.1']),
        fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }));
    case 'podCidr':
      return fc.constantFrom('', '10.244.0.0/24', 'not-a-cidr', '::/0');
    default:
      return undefined;
  }
}

/** An arbitrary request object (a ts-proto partial) of message `type`, `depth` levels deep at most. */
export function messageArb(schema: ProtoSchema, type: string, pool: FuzzPool, depth = 4): fc.Arbitrary<Record<string, unknown>> {
  const fields = schema.messages.get(type);
  if (!fields) throw new Error(`fuzz: no message ${type}`);
  const parts: Record<string, Arb> = {};
  for (const f of fields) {
    const list = isCommandList(f) ? fieldOverride(f, pool) : undefined;
    if (list) { parts[f.name] = list; continue; }
    const one = valueArb(schema, f, pool, depth);
    if (!one) continue;
    if (f.map) parts[f.name] = fc.dictionary(fc.oneof(anyString, fc.constantFrom('net.ipv4.ip_unprivileged_port_start', 'kernel.shm_rmid_forced', 'io.kubernetes.cri.sandbox-id', 'org.systemd.property.CPUQuota')), anyString, { maxKeys: 3 });
    else parts[f.name] = f.repeated ? fc.array(one, { maxLength: 3 }) : one;
  }
  return fc.record(parts, { requiredKeys: [] }) as fc.Arbitrary<Record<string, unknown>>;
}

function valueArb(schema: ProtoSchema, f: FieldSchema, pool: FuzzPool, depth: number): Arb | undefined {
  const override = fieldOverride(f, pool);
  if (override) return override;
  const s = scalar[f.type];
  if (s) return s;
  const values = schema.enums.get(f.type);
  if (values) return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...values) }, { weight: 1, arbitrary: fc.constantFrom(-1, 99, 2 ** 31 - 1) });
  if (!schema.messages.has(f.type) || depth <= 0) return undefined;
  return fc.oneof({ weight: 1, arbitrary: fc.constant(undefined) }, { weight: 2, arbitrary: fc.constant({}) }, { weight: 4, arbitrary: messageArb(schema, f.type, pool, depth - 1) });
}

// `command`, `args` and `cmd` are repeated strings that `fieldOverride` gives as whole lists.
function isCommandList(field: FieldSchema): boolean {
  return field.repeated && (field.name === 'command' || field.name === 'args' || field.name === 'cmd');
}
