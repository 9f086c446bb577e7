import fs from 'node:fs/promises';
import path from 'node:path';

/** What `shiftOwnership` did, for the log. */
export interface ShiftReport {
  /** Inodes whose owner changed (a hard-linked file counts once). */
  readonly inodes: number;
}

const SET_ID_BITS = 0o6000;

/**
 * Adds `uidOffset`/`gidOffset` to the owner and group of everything under `root` (itself included),
 * as containerd's `remapRootFS` does for a remapped snapshot, on a plain file system (not an overlay:
 * each inode is shifted once however many hard links it has). Links are never followed. chown(2)
 * clears the setuid and setgid bits of files; they are set again, so an image's `su` stays setuid.
 * Device nodes, FIFOs and sockets are shifted like files.
 * @throws Error from the file system (the caller reports it and drops the copy)
 */
export async function shiftOwnership(root: string, uidOffset: number, gidOffset: number, signal: AbortSignal): Promise<ShiftReport> {
  const seen = new Set<string>();
  const shift = async (p: string): Promise<void> => {
    signal.throwIfAborted();
    const st = await fs.lstat(p, { bigint: true });
    const inode = `${st.dev}:${st.ino}`;
    if (seen.has(inode)) return;
    seen.add(inode);
    await fs.lchown(p, Number(st.uid) + uidOffset, Number(st.gid) + gidOffset);
    const mode = Number(st.mode);
    if (!st.isSymbolicLink() && !st.isDirectory() && (mode & SET_ID_BITS) !== 0) await fs.chmod(p, mode & 0o7777);
    if (!st.isDirectory()) return;
    for (const name of await fs.readdir(p)) await shift(path.join(p, name));
  };
  await shift(root);
  return { inodes: seen.size };
}
