import { readArchive } from './checkpoint-archive.js';

/** For tests: every file of the checkpoint archive at `archive`, by member name, as UTF-8 text. */
export async function archiveMembers(archive: string): Promise<Map<string, string>> {
  const seen = new Map<string, string>();
  await readArchive(archive, {
    file: async (name, _size, body) => {
      const parts: Buffer[] = [];
      for await (const c of body) parts.push(c as Buffer);
      seen.set(name, Buffer.concat(parts).toString('utf8'));
      return true;
    },
  }, AbortSignal.timeout(10_000));
  return seen;
}
