import fs from 'node:fs';
import path from 'node:path';
import { LocalRegistry, type LocalRegistryOptions } from '@crikit/testkit';

/** Writes `<configDir>/<host>/hosts.toml` so crikit reaches `host` over plain http at `url` (and any mirrors first). */
export function writeHostsToml(configDir: string, host: string, server: string, mirrors: string[] = []): void {
  const dir = path.join(configDir, host);
  fs.mkdirSync(dir, { recursive: true });
  const lines = [`server = "${server}"`, ''];
  for (const m of mirrors) lines.push(`[host."${m}"]`, '  capabilities = ["pull", "resolve"]', '');
  fs.writeFileSync(path.join(dir, 'hosts.toml'), lines.join('\n'));
}

/** Starts a registry on 127.0.0.1 and makes it reachable over http for crikit. */
export async function startRegistry(configDir: string, options: LocalRegistryOptions = {}): Promise<LocalRegistry> {
  const registry = await LocalRegistry.start(options);
  writeHostsToml(configDir, registry.host, registry.url);
  return registry;
}
