import fs from 'node:fs/promises';
import { InvalidArgumentError } from '@crikit/core';

/** A user or group as the config names it: a numeric id, or a name looked up in /etc/passwd or /etc/group. */
export type IdOrName = number | string;

/**
 * The numeric uid and gid the socket gets; -1 leaves one unchanged (as chown(2) does).
 * Names are read from the files (the local databases, no NSS), like containerd's numeric `uid`/`gid`
 * but friendlier for a `kubelet` group.
 * @throws InvalidArgumentError naming the key when a name is unknown
 */
export async function socketOwnership(owner: IdOrName | undefined, group: IdOrName | undefined,
  files: { passwd: string; group: string } = { passwd: '/etc/passwd', group: '/etc/group' }): Promise<{ uid: number; gid: number }> {
  return {
    uid: await resolveId(owner, files.passwd, 'server.socketOwner', 'user'),
    gid: await resolveId(group, files.group, 'server.socketGroup', 'group'),
  };
}

async function resolveId(value: IdOrName | undefined, file: string, key: string, what: string): Promise<number> {
  if (value === undefined) return -1;
  if (typeof value === 'number') return value;
  if (/^\d+$/.test(value)) return Number(value);
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === value && fields[2] !== undefined && /^\d+$/.test(fields[2])) return Number(fields[2]);
  }
  throw new InvalidArgumentError(`${key}: no ${what} "${value}" in ${file}`);
}
