import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A registry whose filesystem storage this process can write (a `LocalRegistry` fits). */
export interface RegistryStorage {
  /** Root directory of the registry's filesystem storage driver. */
  readonly storageRoot: string;
}

/** Where the filesystem storage driver of distribution keeps the bytes of a blob. */
export function blobStoragePath(registry: RegistryStorage, digest: string): string {
  const match = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (match === null) throw new Error(`blob storage path: "${digest}" is not a sha256 digest`);
  const hex = match[1]!;
  return join(registry.storageRoot, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
}

/**
 * Rewrites a stored blob with other bytes of the same length (every byte inverted), so the registry
 * serves content that does not match the digest it is fetched by: the registry checks digests on
 * upload, never when serving. Returns the path rewritten. Not idempotent: a second call restores the
 * original bytes.
 * @throws Error when the registry holds no such blob
 */
export async function corruptBlobInStorage(registry: RegistryStorage, digest: string): Promise<string> {
  const path = blobStoragePath(registry, digest);
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (err) {
    throw new Error(`corrupt blob ${digest}: not in registry storage at ${path}`, { cause: err });
  }
  for (let i = 0; i < data.length; i++) data[i] = data[i]! ^ 0xff;
  await writeFile(path, data);
  return path;
}
