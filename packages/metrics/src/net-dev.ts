import fs from 'node:fs/promises';
import path from 'node:path';

/** The counters of one network interface, as `/proc/<pid>/net/dev` reports them. */
export interface InterfaceCounters {
  readonly name: string;
  readonly rxBytes: bigint;
  readonly rxPackets: bigint;
  readonly rxErrors: bigint;
  readonly rxDropped: bigint;
  readonly txBytes: bigint;
  readonly txPackets: bigint;
  readonly txErrors: bigint;
  readonly txDropped: bigint;
}

/**
 * Parses the text of `/proc/<pid>/net/dev`: every interface but loopback (containerd's CRI skips
 * `lo` too), in the kernel's order. Lines that do not parse are skipped.
 */
export function parseNetDev(text: string): InterfaceCounters[] {
  const out: InterfaceCounters[] = [];
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const fields = line.slice(colon + 1).trim().split(/\s+/);
    if (name === '' || name === 'lo' || fields.length < 16 || !fields.every(f => /^\d+$/.test(f))) continue;
    const n = fields.map(f => BigInt(f));
    out.push({
      name, rxBytes: n[0]!, rxPackets: n[1]!, rxErrors: n[2]!, rxDropped: n[3]!,
      txBytes: n[8]!, txPackets: n[9]!, txErrors: n[10]!, txDropped: n[11]!,
    });
  }
  return out;
}

/**
 * The interfaces of the network namespace process `pid` lives in. procfs shows a process's own
 * namespace under `/proc/<pid>/net`, so no setns is needed.
 * @returns undefined when the process is gone
 */
export async function readNetDev(procRoot: string, pid: number): Promise<InterfaceCounters[] | undefined> {
  try {
    return parseNetDev(await fs.readFile(path.join(procRoot, String(pid), 'net', 'dev'), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
    throw err;
  }
}
