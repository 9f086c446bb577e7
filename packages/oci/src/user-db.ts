import { InvalidArgumentError } from '@crikit/core';

/**
 * The user database of a container's rootfs: the text of its `/etc/passwd` and `/etc/group`,
 * read by the caller (undefined when the file is missing), so that spec building stays pure.
 */
export interface UserDb {
  readonly passwd: string | undefined;
  readonly group: string | undefined;
}

/** One `/etc/passwd` entry (the fields crikit uses). */
export interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/** One `/etc/group` entry. */
export interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
}

/** The uid and primary gid a process runs as. */
export interface ResolvedUser {
  readonly uid: number;
  readonly gid: number;
}

const MAX_ID = 0xffff_ffff;
/** The largest gid a process may hold: 2^32-1 is (gid_t)-1, which setgroups refuses. */
const MAX_GROUP_ID = 0xffff_fffe;

/**
 * CRI supplemental group ids as numbers, each checked to lie in 0..2^32-2.
 * @throws InvalidArgumentError naming `field` and the value out of range
 */
export function supplementalGids(values: readonly bigint[], field: string): number[] {
  return values.map(g => {
    if (g < 0n || g > BigInt(MAX_GROUP_ID)) throw new InvalidArgumentError(`${field}: group ${g} is out of range (0 to ${MAX_GROUP_ID})`);
    return Number(g);
  });
}

const isId = (s: string): boolean => /^\d+$/.test(s) && Number(s) <= MAX_ID;
const lines = (text: string | undefined): string[][] =>
  (text ?? '').split('\n').map(l => l.trim()).filter(l => l !== '' && !l.startsWith('#')).map(l => l.split(':'));

/** Parses `/etc/passwd` text; malformed lines are skipped, as libc skips them. */
export function parsePasswd(text: string | undefined): PasswdEntry[] {
  return lines(text).filter(f => f.length >= 4 && f[0] !== '' && isId(f[2] ?? '') && isId(f[3] ?? ''))
    .map(f => ({ name: f[0] ?? '', uid: Number(f[2]), gid: Number(f[3]) }));
}

/** Parses `/etc/group` text; malformed lines are skipped. */
export function parseGroup(text: string | undefined): GroupEntry[] {
  return lines(text).filter(f => f.length >= 3 && f[0] !== '' && isId(f[2] ?? ''))
    .map(f => ({ name: f[0] ?? '', gid: Number(f[2]), members: (f[3] ?? '').split(',').map(m => m.trim()).filter(m => m !== '') }));
}

/**
 * Resolves a user string against the rootfs's user database, with containerd's `WithUser` rules:
 * - `''` is root (0:0);
 * - `uid` runs as that uid with the primary gid of its passwd entry, or gid 0 when it has none;
 * - `name` runs as the passwd entry of that name;
 * - `user:group` takes each half as a number when it is one, else looks it up (passwd, group).
 * @throws InvalidArgumentError naming a user or group the rootfs does not know, or a malformed string
 */
export function resolveUser(user: string, db: UserDb): ResolvedUser {
  if (user === '') return { uid: 0, gid: 0 };
  const parts = user.split(':');
  // A number out of the id range is a mistake, not a name.
  if (parts.length > 2 || parts.some(p => p === '' || (/^\d+$/.test(p) && !isId(p)))) {
    throw new InvalidArgumentError(`invalid user "${user}"`);
  }
  const [name = '', group] = parts;
  const passwd = parsePasswd(db.passwd);
  if (group === undefined) {
    if (isId(name)) {
      const uid = Number(name);
      return { uid, gid: passwd.find(e => e.uid === uid)?.gid ?? 0 };
    }
    const entry = passwd.find(e => e.name === name);
    if (!entry) throw new InvalidArgumentError(`user "${name}" not found in the image's /etc/passwd`);
    return { uid: entry.uid, gid: entry.gid };
  }
  let uid: number;
  if (isId(name)) uid = Number(name);
  else {
    const entry = passwd.find(e => e.name === name);
    if (!entry) throw new InvalidArgumentError(`user "${name}" not found in the image's /etc/passwd`);
    uid = entry.uid;
  }
  if (isId(group)) return { uid, gid: Number(group) };
  const entry = parseGroup(db.group).find(e => e.name === group);
  if (!entry) throw new InvalidArgumentError(`group "${group}" not found in the image's /etc/group`);
  return { uid, gid: entry.gid };
}

/**
 * The groups `/etc/group` lists `user` as a member of (containerd: `WithAdditionalGIDs`). `user` is
 * a name, or a uid whose passwd entry gives the name; a uid without an entry belongs to no group.
 */
export function memberGids(user: string, db: UserDb): number[] {
  let name = user;
  if (isId(user)) {
    const entry = parsePasswd(db.passwd).find(e => e.uid === Number(user));
    if (!entry) return [];
    name = entry.name;
  }
  // containerd: a group named like the user is the user's own group, not a supplemental one.
  return parseGroup(db.group).filter(g => g.name !== name && g.members.includes(name)).map(g => g.gid);
}

/** Sorted, deduplicated gids, as containerd merges them (`mergeGids`). */
export function mergeGids(...lists: readonly (readonly number[])[]): number[] {
  return [...new Set(lists.flat())].sort((a, b) => a - b);
}
