import fs from 'node:fs/promises';
import path from 'node:path';
import { inject, injectable } from 'inversify';
import { parse as parseYaml } from 'yaml';
import type { cri } from '@crikit/api';
import { FailedPreconditionError, Logger, NotFoundError, throwIfAborted } from '@crikit/core';
import { ContainerConfig } from '../container-config.js';
import { requestedCdiDevices } from './cdi-requests.js';
import { cdiSpecSchema, parseQualifiedCdiName, type CdiContainerEdits, type CdiDeviceNode, type CdiSpec } from './cdi-spec.js';

/** The largest CDI spec file read; a larger one is reported as an error and skipped. */
export const CDI_SPEC_MAX_BYTES = 4 << 20;

/** A device node whose type and numbers are known (filled in from the host node where the spec left them out). */
export type ResolvedCdiDeviceNode = CdiDeviceNode & { readonly type: 'b' | 'c' | 'u' | 'p'; readonly major: number; readonly minor: number };

/** The edits for a set of CDI devices, in the order they apply: a spec's own edits before its first device's. */
export interface ResolvedCdiEdits {
  /** The qualified names resolved, in request order. */
  readonly devices: readonly string[];
  readonly edits: readonly (Omit<CdiContainerEdits, 'deviceNodes'> & { readonly deviceNodes?: readonly ResolvedCdiDeviceNode[] })[];
}

/** One spec file read from a spec dir; `priority` is the dir's index (later dirs win). */
interface LoadedSpec { readonly file: string; readonly priority: number; readonly spec: CdiSpec }

/** Every device of every readable spec, by qualified name; what could not be used, with why. */
interface Catalog {
  readonly devices: Map<string, { readonly from: LoadedSpec; readonly edits: CdiContainerEdits }>;
  /** Qualified names two specs of the same priority both declare: neither is used. */
  readonly conflicts: Map<string, string[]>;
  /** Spec files that could not be read or parsed, with the reason. */
  readonly errors: string[];
}

/**
 * CDI devices from the spec files (`*.json`, `*.yaml`) in `container.cdiSpecDirs`, as the CDI
 * reference cache resolves them: a device declared in a later dir replaces an earlier one; two
 * files of the same dir declaring it make it unresolvable; a file that fails to parse is skipped
 * (and named when a device cannot be found). The dirs are read again on each call that asks for a
 * device, so new or changed specs need no restart; a container that asks for none costs nothing.
 */
@injectable()
export class CdiRegistry {
  /**
   * Parsed spec files (or why they failed) by path, with the identity of the file read (inode,
   * size, ctime in ns): a file whose identity is unchanged is not read again. Only files seen in
   * the last scan are kept.
   */
  private parsed = new Map<string, { readonly identity: string; readonly spec?: CdiSpec; readonly error?: string }>();

  constructor(
    @inject(ContainerConfig) private readonly config: ContainerConfig,
    @inject(Logger) private readonly log: Logger,
  ) {}

  /**
   * The edits of the CDI devices `config` asks for (`requestedCdiDevices`); none when it asks for none.
   * @throws InvalidArgumentError for a name that is not fully qualified; what `resolve` throws
   */
  resolveFor(config: cri.ContainerConfig, signal: AbortSignal): Promise<ResolvedCdiEdits> {
    return this.resolve(requestedCdiDevices(config), signal);
  }

  /**
   * The edits of `devices` (fully-qualified names), with each device node's type and numbers known.
   * @throws NotFoundError naming every device no readable spec declares (or two declare);
   *   FailedPreconditionError when a device node's host path is missing or not of its type
   */
  async resolve(devices: readonly string[], signal: AbortSignal): Promise<ResolvedCdiEdits> {
    if (devices.length === 0) return { devices: [], edits: [] };
    const catalog = await this.load(signal);
    const missing = devices.filter(d => !catalog.devices.has(d));
    if (missing.length > 0) throw new NotFoundError(unresolvableMessage(missing, catalog, this.config.cdiSpecDirs));
    const edits: CdiContainerEdits[] = [];
    const specsSeen = new Set<LoadedSpec>();
    for (const name of devices) {
      const { from, edits: deviceEdits } = catalog.devices.get(name)!;
      if (!specsSeen.has(from)) {
        specsSeen.add(from);
        if (from.spec.containerEdits) edits.push(from.spec.containerEdits);
      }
      edits.push(deviceEdits);
    }
    const resolved: ResolvedCdiEdits['edits'][number][] = [];
    for (const { deviceNodes, ...rest } of edits) {
      resolved.push(deviceNodes ? { ...rest, deviceNodes: await Promise.all(deviceNodes.map(fillFromHost)) } : rest);
    }
    return { devices: [...devices], edits: resolved };
  }

  private async load(signal: AbortSignal): Promise<Catalog> {
    const catalog: Catalog = { devices: new Map(), conflicts: new Map(), errors: [] };
    const priorities = new Map<string, number>();
    const parsed = new Map<string, { readonly identity: string; readonly spec?: CdiSpec; readonly error?: string }>();
    for (const [priority, dir] of this.config.cdiSpecDirs.entries()) {
      throwIfAborted(signal, 'read CDI specs');
      for (const file of await specFiles(dir)) {
        const identity = await fileIdentity(file);
        let entry = this.parsed.get(file);
        if (!entry || identity === '' || entry.identity !== identity) {
          entry = await readSpec(file).then(spec => ({ identity, spec }), (err: Error) => ({ identity, error: err.message }));
          if (entry.error !== undefined) this.log.warn({ file, err: entry.error }, 'CDI spec skipped');
        }
        parsed.set(file, entry);
        const spec = entry.spec;
        if (!spec) {
          catalog.errors.push(`${file}: ${entry.error}`);
          continue;
        }
        const from: LoadedSpec = { file, priority, spec };
        for (const device of spec.devices) {
          const name = `${spec.kind}=${device.name}`;
          const known = priorities.get(name);
          if (known === priority) {
            // CDI: the same device in two specs of equal priority is a conflict; neither wins.
            catalog.conflicts.set(name, [...(catalog.conflicts.get(name) ?? [catalog.devices.get(name)?.from.file ?? '?']), file]);
            catalog.devices.delete(name);
            continue;
          }
          priorities.set(name, priority);
          catalog.conflicts.delete(name);
          catalog.devices.set(name, { from, edits: device.containerEdits });
        }
      }
    }
    this.parsed = parsed;
    return catalog;
  }
}

/** What tells one version of a file from another; '' when it cannot be stat'ed (then it is always read). */
async function fileIdentity(file: string): Promise<string> {
  try {
    const st = await fs.stat(file, { bigint: true });
    return `${st.ino}:${st.size}:${st.ctimeNs}`;
  } catch {
    return '';
  }
}

/** The `.json` and `.yaml` files directly in `dir`, by name; none when it does not exist. */
async function specFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.filter(e => !e.isDirectory() && /\.(json|yaml)$/.test(e.name)).map(e => path.join(dir, e.name)).sort();
}

async function readSpec(file: string): Promise<CdiSpec> {
  const handle = await fs.open(file, 'r');
  let text: string;
  try {
    const { size } = await handle.stat();
    if (size > CDI_SPEC_MAX_BYTES) throw new Error(`larger than ${CDI_SPEC_MAX_BYTES} bytes`);
    text = await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
  // YAML 1.1, as the reference parser reads specs (so `fileMode: 0666` is octal); JSON is YAML too.
  const raw: unknown = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text, { version: '1.1', uniqueKeys: true });
  const parsed = cdiSpecSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(parsed.error.issues.map(i => `${i.path.join('.') || '(top level)'}: ${i.code === 'unrecognized_keys' ? `unknown key ${i.keys.join(', ')}` : i.message}`).join('; '));
  }
  return parsed.data;
}

function unresolvableMessage(missing: readonly string[], catalog: Catalog, dirs: readonly string[]): string {
  const reasons = missing.map(name => {
    const conflict = catalog.conflicts.get(name);
    if (conflict) return `"${name}" (declared by both ${conflict.join(' and ')})`;
    const kind = parseQualifiedCdiName(name)?.kind;
    const kindKnown = [...catalog.devices.keys()].some(k => k.startsWith(`${kind}=`));
    return `"${name}"${kindKnown ? '' : ` (no spec of kind ${kind})`}`;
  });
  const skipped = catalog.errors.length > 0 ? `; spec files skipped: ${catalog.errors.join('; ')}` : '';
  return `unresolvable CDI device${missing.length > 1 ? 's' : ''} ${reasons.join(', ')} in ${dirs.join(', ') || 'no spec dir'}${skipped}`;
}

/** CDI: a node without type or major number takes them from the host node (not following a link). */
async function fillFromHost(node: CdiDeviceNode): Promise<ResolvedCdiDeviceNode> {
  if (node.type !== undefined && ((node.major ?? 0) !== 0 || node.type === 'p')) {
    return { ...node, type: node.type, major: node.major ?? 0, minor: node.minor ?? 0 };
  }
  const hostPath = node.hostPath ?? node.path;
  let st;
  try {
    st = await fs.lstat(hostPath);
  } catch (err) {
    throw new FailedPreconditionError(`CDI device node ${node.path}: host device ${hostPath}: ${(err as NodeJS.ErrnoException).code ?? err}`, { cause: err });
  }
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : st.isFIFO() ? 'p' : undefined;
  if (!type) throw new FailedPreconditionError(`CDI device node ${node.path}: host path ${hostPath} is not a device node`);
  const asked = node.type === 'u' ? 'c' : node.type;
  if (asked !== undefined && asked !== type) throw new FailedPreconditionError(`CDI device node ${node.path}: type ${node.type}, but host ${hostPath} is of type ${type}`);
  if ((node.major ?? 0) !== 0 || type === 'p') return { ...node, type: node.type ?? type, major: node.major ?? 0, minor: node.minor ?? 0 };
  // Linux dev_t: major in bits 8-19 (and above 32), minor in bits 0-7 and 20-31.
  const rdev = st.rdev;
  const major = ((rdev >> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
  const minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
  return { ...node, type: node.type ?? type, major, minor };
}
