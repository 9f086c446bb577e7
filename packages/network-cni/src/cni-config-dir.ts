import fs from 'node:fs/promises';
import path from 'node:path';

/** A CNI network config as loaded from disk, normalised to a conflist. */
export interface CniNetworkList {
  readonly name: string;
  readonly cniVersion: string;
  readonly plugins: readonly Record<string, unknown>[];
  /** The file it came from. */
  readonly file: string;
  /** The conflist as JSON, the bytes plugins get (with `plugins` normalised). */
  readonly raw: Record<string, unknown>;
}

/** What a scan of the conf dir found: the valid networks in lexical order, and why others were passed over. */
export interface CniConfigScan {
  readonly networks: readonly CniNetworkList[];
  readonly problems: readonly string[];
}

const extensions = new Set(['.conflist', '.conf', '.json']);

/**
 * Reads every network config in `dir` in lexical order, the way libcni's ConfFiles does:
 * a `.conf`/`.json` holding a single plugin becomes a one-plugin list. Invalid files are reported, not thrown.
 */
export async function scanCniConfigDir(dir: string, max: number): Promise<CniConfigScan> {
  let names: string[];
  try {
    names = (await fs.readdir(dir)).filter(n => extensions.has(path.extname(n))).sort();
  } catch (err) {
    return { networks: [], problems: [`cannot read ${dir}: ${(err as NodeJS.ErrnoException).code ?? err}`] };
  }
  const networks: CniNetworkList[] = [];
  const problems: string[] = [];
  for (const name of names) {
    if (networks.length >= max) break;
    const file = path.join(dir, name);
    try {
      networks.push(parseNetworkConfig(file, await fs.readFile(file, 'utf8')));
    } catch (err) {
      problems.push(`${file}: ${(err as Error).message}`);
    }
  }
  return { networks, problems };
}

/** Parses one config file's text; throws an Error saying what is wrong. */
export function parseNetworkConfig(file: string, text: string): CniNetworkList {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`invalid JSON: ${(err as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('not a JSON object');
  const obj = json as Record<string, unknown>;
  if (typeof obj.name !== 'string' || obj.name === '') throw new Error('no "name"');
  const cniVersion = typeof obj.cniVersion === 'string' ? obj.cniVersion : '0.2.0';
  let plugins: Record<string, unknown>[];
  let raw: Record<string, unknown>;
  if (path.extname(file) === '.conflist' || Array.isArray(obj.plugins)) {
    if (!Array.isArray(obj.plugins) || obj.plugins.length === 0) throw new Error('a conflist needs a non-empty "plugins"');
    plugins = obj.plugins as Record<string, unknown>[];
    raw = obj;
  } else {
    // A single-plugin .conf: its own keys are the plugin's config.
    plugins = [obj];
    raw = { cniVersion, name: obj.name, plugins };
  }
  for (const [i, p] of plugins.entries()) {
    if (typeof p !== 'object' || p === null || typeof p.type !== 'string' || p.type === '') throw new Error(`plugin ${i} has no "type"`);
  }
  return { name: obj.name, cniVersion, plugins, file, raw };
}
