import { z } from 'zod';

/**
 * The part of the Container Device Interface spec crikit reads
 * (https://github.com/cncf-tags/container-device-interface/blob/main/SPEC.md): `cdiVersion`,
 * `kind`, `annotations`, `devices[].name` and `containerEdits` with `env`, `deviceNodes`, `mounts`,
 * `hooks` and `additionalGids`, at spec and device level. A spec with any other key (`intelRdt`,
 * for one) is refused whole, as the reference parser refuses unknown keys, so no edit is ever
 * dropped silently.
 */

/** The spec versions crikit reads; each adds fields to the one before (see `requiredCdiVersion`). */
export const CDI_VERSIONS = ['0.3.0', '0.4.0', '0.5.0', '0.6.0', '0.7.0', '0.8.0'] as const;

/** OCI hook names a CDI hook may use (CDI also takes the deprecated `prestart`). */
export const CDI_HOOK_NAMES = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;

const MAX_ID = 0xffff_ffff;
const envEntry = z.string().regex(/^[^=]+=/, 'must be NAME=value');
const absolute = z.string().startsWith('/', 'must be an absolute path');
const id = z.number().int().min(0).max(MAX_ID);

const deviceNodeSchema = z.strictObject({
  /** Where the node appears in the container. */
  path: absolute,
  /** The node on the host; `path` when unset. Its type and numbers fill what the spec leaves out. */
  hostPath: absolute.optional(),
  type: z.enum(['b', 'c', 'u', 'p']).optional(),
  major: z.number().int().min(0).optional(),
  minor: z.number().int().min(0).optional(),
  fileMode: z.number().int().min(0).max(0o7777).optional(),
  /** Device cgroup access, any of `r`, `w`, `m`; `rwm` when unset. */
  permissions: z.string().regex(/^[rwm]{0,3}$/, 'must be made of r, w and m').optional(),
  uid: id.optional(),
  gid: id.optional(),
});

const mountSchema = z.strictObject({
  hostPath: z.string().min(1),
  containerPath: absolute,
  type: z.string().optional(),
  options: z.array(z.string()).optional(),
});

const hookSchema = z.strictObject({
  hookName: z.enum(CDI_HOOK_NAMES),
  path: absolute,
  args: z.array(z.string()).optional(),
  env: z.array(envEntry).optional(),
  timeout: z.number().int().positive().optional(),
});

const editsSchema = z.strictObject({
  env: z.array(envEntry).optional(),
  deviceNodes: z.array(deviceNodeSchema).optional(),
  mounts: z.array(mountSchema).optional(),
  hooks: z.array(hookSchema).optional(),
  /** Extra groups of the container's process; 0 is ignored. */
  additionalGids: z.array(id).optional(),
});

// CDI names: a vendor is a domain-like label, a class and a device name are alphanumerics with
// `-`, `_` and `.` (a device name also `:`) that begin and end alphanumeric.
const VENDOR = /^[A-Za-z]([A-Za-z0-9_.-]*[A-Za-z0-9])?$/;
const CLASS = /^[A-Za-z]([A-Za-z0-9_.-]*[A-Za-z0-9])?$/;
const DEVICE_NAME = /^[A-Za-z0-9]([A-Za-z0-9_.:-]*[A-Za-z0-9])?$/;

const kindSchema = z.string().refine(k => {
  const [vendor, cls, ...rest] = k.split('/');
  return rest.length === 0 && vendor !== undefined && cls !== undefined && VENDOR.test(vendor) && CLASS.test(cls);
}, 'must be vendor/class, e.g. vendor.com/device');

const deviceSchema = z.strictObject({
  name: z.string().regex(DEVICE_NAME, 'must be alphanumerics with - _ . : between'),
  annotations: z.record(z.string(), z.string()).optional(),
  containerEdits: editsSchema,
});

/** A CDI spec file as crikit reads it. */
export const cdiSpecSchema = z.strictObject({
  cdiVersion: z.enum(CDI_VERSIONS),
  kind: kindSchema,
  annotations: z.record(z.string(), z.string()).optional(),
  devices: z.array(deviceSchema).min(1, 'must list at least one device'),
  containerEdits: editsSchema.optional(),
}).superRefine((spec, ctx) => {
  const seen = new Set<string>();
  for (const d of spec.devices) {
    if (seen.has(d.name)) ctx.addIssue({ code: 'custom', path: ['devices'], message: `device "${d.name}" is listed twice` });
    seen.add(d.name);
  }
  const needed = requiredCdiVersion(spec);
  if (compareVersions(needed, spec.cdiVersion) > 0) {
    ctx.addIssue({ code: 'custom', path: ['cdiVersion'], message: `the fields used need at least ${needed}` });
  }
});

/** A parsed CDI spec file. */
export type CdiSpec = z.infer<typeof cdiSpecSchema>;
/** The edits of a spec (applied when any of its devices is asked for) or of one device. */
export type CdiContainerEdits = z.infer<typeof editsSchema>;
/** A device node to create in the container. */
export type CdiDeviceNode = z.infer<typeof deviceNodeSchema>;
/** A mount to add to the container (`hostPath` is the mount source). */
export type CdiMount = z.infer<typeof mountSchema>;
/** An OCI hook to add, under `hookName`. */
export type CdiHook = z.infer<typeof hookSchema>;

/**
 * The lowest spec version with every field `spec` uses, as the reference parser checks it: mount
 * `type` came in 0.4.0, device node `hostPath` and device names starting with a digit in 0.5.0,
 * annotations and a `.` in the class in 0.6.0, `additionalGids` in 0.7.0.
 */
export function requiredCdiVersion(spec: Omit<CdiSpec, 'cdiVersion'>): string {
  const edits = [spec.containerEdits, ...spec.devices.map(d => d.containerEdits)].filter(e => e !== undefined);
  if (edits.some(e => (e.additionalGids ?? []).length > 0)) return '0.7.0';
  const cls = spec.kind.split('/')[1] ?? '';
  if (spec.annotations || spec.devices.some(d => d.annotations) || cls.includes('.')) return '0.6.0';
  if (spec.devices.some(d => !/^[A-Za-z]/.test(d.name)) || edits.some(e => e.deviceNodes?.some(n => n.hostPath !== undefined))) return '0.5.0';
  if (edits.some(e => e.mounts?.some(m => m.type !== undefined))) return '0.4.0';
  return '0.3.0';
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** A fully-qualified CDI device name, `vendor.com/class=name`, taken apart. */
export interface QualifiedCdiName {
  /** `vendor.com/class`: the spec's `kind`. */
  readonly kind: string;
  readonly name: string;
}

/** The parts of a fully-qualified CDI device name, or undefined when `qualified` is not one. */
export function parseQualifiedCdiName(qualified: string): QualifiedCdiName | undefined {
  const eq = qualified.indexOf('=');
  if (eq < 0) return undefined;
  const kind = qualified.slice(0, eq);
  const name = qualified.slice(eq + 1);
  if (!kindSchema.safeParse(kind).success || !DEVICE_NAME.test(name)) return undefined;
  return { kind, name };
}
