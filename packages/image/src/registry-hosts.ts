/**
 * Registry endpoints from a config dir in containerd's `hosts.toml` layout (containerd 1.6,
 * remotes/docker/config/hosts.go):
 *
 *   <dir>/127.0.0.1_5000_/hosts.toml   looked up first for host 127.0.0.1:5000
 *   <dir>/127.0.0.1:5000/hosts.toml    then the host as written
 *   <dir>/_default/hosts.toml          then the fallback for every host
 *
 *   server = "https://registry.example"          # the upstream; default https://<host>
 *   ca = "/etc/certs/root.pem"                    # root-level keys apply to the server
 *   [host."http://mirror.local:5000"]             # mirrors, tried first, in file order
 *     capabilities = ["pull", "resolve"]          # default: pull, resolve, push
 *     skip_verify = true
 *     ca = ["ca.pem"]                             # relative to the host directory
 *     header = { "X-Token" = ["a", "b"] }
 *     override_path = true                        # the URL path is the API root (no /v2 added)
 *
 * A host directory without hosts.toml uses Docker's certs.d files: `*.crt` are CA certificates.
 * No directory at all gives `https://<host>/v2` (`https://registry-1.docker.io/v2` for docker.io).
 * Files are read on every call, so edits apply to the next pull without a restart.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { inject, injectable } from 'inversify';
import { FailedPreconditionError } from '@crikit/core';
import { ImageConfig } from './image-config.js';

/** What an endpoint may be used for, as in containerd's `capabilities`. */
export type RegistryCapability = 'pull' | 'resolve' | 'push';

/** One place to send registry requests to, in the order they are tried. */
export interface RegistryEndpoint {
  /** Scheme, host and API root without a trailing slash: `https://registry-1.docker.io/v2`. */
  readonly url: string;
  /** `host[:port]` of `url`, as named in messages. */
  readonly host: string;
  /** `resolve` turns tags into digests; `pull` fetches by digest. */
  readonly capabilities: readonly RegistryCapability[];
  /** Accept any server certificate (https only). */
  readonly skipVerify: boolean;
  /** Extra root certificates (PEM) trusted next to the system's. */
  readonly caPems: readonly string[];
  /** Headers added to every request sent to this endpoint. */
  readonly headers: Readonly<Record<string, readonly string[]>>;
}

/** An endpoint as a hosts.toml describes it, before its CA files are read. */
export interface HostsFileEntry extends Omit<RegistryEndpoint, 'caPems'> {
  /** Absolute paths of CA certificate files. */
  readonly caFiles: readonly string[];
}

const ALL_CAPABILITIES: readonly RegistryCapability[] = ['pull', 'resolve', 'push'];

/**
 * Reads the registry host configs under `registryConfigDir`. Stateless; safe to share.
 */
@injectable()
export class RegistryHosts {
  constructor(@inject(ImageConfig) private readonly config: Pick<ImageConfig, 'registryConfigDir'>) {}

  /**
   * The endpoints for `registry` (a reference's registry, e.g. `docker.io` or `127.0.0.1:5000`):
   * mirrors first in file order, then the server.
   * @throws FailedPreconditionError naming the file when a hosts.toml or a CA file is invalid or unreadable
   */
  async endpoints(registry: string): Promise<RegistryEndpoint[]> {
    const dir = await this.hostDir(registry);
    const entries = dir === undefined ? [defaultEntry(registry)] : await loadHostDir(dir, registry);
    return Promise.all(entries.map(async ({ caFiles, ...entry }) => ({ ...entry, caPems: await readCaFiles(caFiles) })));
  }

  /** The first existing directory among `<host>_<port>_`, `<host:port>` and `_default`. */
  private async hostDir(registry: string): Promise<string | undefined> {
    const root = this.config.registryConfigDir;
    const colon = registry.lastIndexOf(':');
    const candidates = colon > 0 && !registry.endsWith(']')
      ? [`${registry.slice(0, colon)}_${registry.slice(colon + 1)}_`, registry, '_default']
      : [registry, '_default'];
    for (const name of candidates) {
      const dir = join(root, name);
      try {
        if ((await stat(dir)).isDirectory()) return dir;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          throw new FailedPreconditionError(`read registry config ${dir}: ${(err as Error).message}`, { cause: err });
        }
      }
    }
    return undefined;
  }
}

/**
 * Parses one hosts.toml for `registry`. Pure. `baseDir` resolves relative `ca` paths.
 * Departs from containerd in one way: an invalid file is an error here, where containerd logs it
 * and falls back to the certificate files, which hides the mistake.
 * @throws FailedPreconditionError naming `baseDir` and the bad key
 */
export function parseHostsToml(text: string, registry: string, baseDir: string): HostsFileEntry[] {
  const file = join(baseDir, 'hosts.toml');
  const fail = (why: string, cause?: unknown): never => {
    throw new FailedPreconditionError(`read registry config ${file}: ${why}`, { cause });
  };
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    return fail(`invalid toml: ${(err as Error).message.split('\n')[0] ?? ''}`, err);
  }
  const hosts = doc['host'] ?? {};
  if (!isTable(hosts)) return fail('"host" must be a table of tables');
  const entries: HostsFileEntry[] = [];
  // smol-toml keeps tables in file order, which is the order containerd tries mirrors in.
  for (const [url, table] of Object.entries(hosts)) {
    if (!isTable(table)) return fail(`host "${url}" must be a table`);
    entries.push(entryOf(url, table, baseDir, msg => fail(`host "${url}": ${msg}`)));
  }
  const server = doc['server'];
  if (server !== undefined && typeof server !== 'string') return fail('"server" must be a string');
  const serverUrl = server === undefined || server === '' ? defaultServer(registry) : server;
  entries.push(entryOf(serverUrl, doc, baseDir, msg => fail(`server: ${msg}`)));
  return entries;
}

/** https://<host>/v2 for a host without config; docker.io's API lives at registry-1.docker.io. */
function defaultServer(registry: string): string {
  return registry === 'docker.io' ? 'https://registry-1.docker.io' : `https://${registry}`;
}

function defaultEntry(registry: string, caFiles: readonly string[] = []): HostsFileEntry {
  const url = new URL(defaultServer(registry));
  return { url: `${url.origin}/v2`, host: url.host, capabilities: ALL_CAPABILITIES, skipVerify: false, headers: {}, caFiles };
}

async function loadHostDir(dir: string, registry: string): Promise<HostsFileEntry[]> {
  let text: string | undefined;
  try {
    text = await readFile(join(dir, 'hosts.toml'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new FailedPreconditionError(`read registry config ${join(dir, 'hosts.toml')}: ${(err as Error).message}`, { cause: err });
    }
  }
  if (text !== undefined && text.trim() !== '') return parseHostsToml(text, registry, dir);
  // Docker's certs.d layout: every *.crt is a CA for the default server. Client certificates are not supported.
  const names = await readdir(dir).catch(() => [] as string[]);
  return [defaultEntry(registry, names.filter(n => n.endsWith('.crt')).sort().map(n => join(dir, n)))];
}

function entryOf(
  server: string, table: Record<string, unknown>, baseDir: string, fail: (why: string) => never,
): HostsFileEntry {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(server)?.[1]?.toLowerCase();
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') return fail(`unsupported scheme in "${server}"`);
  const raw = scheme !== undefined ? server : `https://${server}`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail(`invalid url "${server}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return fail(`unsupported scheme in "${server}"`);
  const overridePath = table['override_path'] ?? false;
  if (typeof overridePath !== 'boolean') return fail('"override_path" must be a boolean');
  // containerd appends /v2 to the path unless it already ends so or override_path is set.
  let path = url.pathname.replace(/\/+$/, '').replace(/\/{2,}/g, '/');
  if (!overridePath && !path.endsWith('/v2')) path = `${path}/v2`;

  const skipVerify = table['skip_verify'] ?? false;
  if (typeof skipVerify !== 'boolean') return fail('"skip_verify" must be a boolean');

  let capabilities = ALL_CAPABILITIES;
  const caps = table['capabilities'];
  if (caps !== undefined) {
    if (!isStringArray(caps)) return fail('"capabilities" must be an array of strings');
    const known = caps.map(c => c.toLowerCase());
    const unknown = known.find(c => !(ALL_CAPABILITIES as readonly string[]).includes(c));
    if (unknown !== undefined) return fail(`unknown capability "${unknown}"`);
    if (known.length > 0) capabilities = ALL_CAPABILITIES.filter(c => known.includes(c));
  }

  const ca = table['ca'];
  let caFiles: string[] = [];
  if (typeof ca === 'string') caFiles = [ca];
  else if (isStringArray(ca)) caFiles = [...ca];
  else if (ca !== undefined) return fail('"ca" must be a path or an array of paths');
  caFiles = caFiles.map(p => (isAbsolute(p) ? p : join(baseDir, p)));

  const headers: Record<string, readonly string[]> = {};
  const header = table['header'];
  if (header !== undefined) {
    if (!isTable(header)) return fail('"header" must be a table');
    for (const [name, value] of Object.entries(header)) {
      if (typeof value === 'string') headers[name] = [value];
      else if (isStringArray(value)) headers[name] = [...value];
      else return fail(`header "${name}" must be a string or an array of strings`);
    }
  }
  // TODO(image): `client` (TLS client certificates) is accepted and ignored for now.
  return { url: `${url.protocol}//${url.host}${path}`, host: url.host, capabilities, skipVerify, caFiles, headers };
}

async function readCaFiles(files: readonly string[]): Promise<string[]> {
  return Promise.all(files.map(async file => {
    let pem: string;
    try {
      pem = await readFile(file, 'utf8');
    } catch (err) {
      throw new FailedPreconditionError(`read registry ca certificate ${file}: ${(err as Error).message}`, { cause: err });
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new FailedPreconditionError(`read registry ca certificate ${file}: no pem certificate in it`);
    }
    return pem;
  }));
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every(v => typeof v === 'string');
}
