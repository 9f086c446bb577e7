import type { cri } from '@crikit/api';
import { unary, type CriConnection } from './cri-connection.js';

/** ListImages as a table: first tag (or digest), short id, size in MB, pinned flag. */
export async function listImages(conn: CriConnection): Promise<string> {
  const res = await unary<cri.ListImagesResponse>(cb => conn.image.listImages({ filter: undefined }, cb));
  const rows = res.images.map(i => [
    i.repoTags[0] ?? i.repoDigests[0] ?? '<none>',
    i.id.replace(/^sha256:/, '').slice(0, 13),
    `${(Number(i.size) / 1e6).toFixed(1)}MB`,
    i.pinned ? 'pinned' : '',
  ]);
  const table = [['IMAGE', 'ID', 'SIZE', ''], ...rows];
  const widths = [0, 1, 2].map(c => Math.max(...table.map(r => r[c]!.length)));
  return table.map(r => r.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]!) : cell)).join('  ').trimEnd()).join('\n');
}
