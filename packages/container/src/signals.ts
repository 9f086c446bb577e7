import os from 'node:os';
import { InvalidArgumentError } from '@crikit/core';

/**
 * The number of a stop signal as images and CRI name it: `SIGTERM`, `TERM`, `15`, `SIGRTMIN+3`.
 * '' means SIGTERM.
 * @throws InvalidArgumentError for an unknown name
 */
export function signalNumber(name: string): number {
  const n = name.trim().toUpperCase();
  if (n === '') return os.constants.signals.SIGTERM;
  if (/^\d+$/.test(n)) return Number(n);
  const full = n.startsWith('SIG') ? n : `SIG${n}`;
  const rt = /^SIGRTM(IN|AX)([+-]\d+)?$/.exec(full);
  if (rt) return (rt[1] === 'IN' ? 34 : 64) + Number(rt[2] ?? 0);
  const num = (os.constants.signals as Record<string, number>)[full];
  if (num === undefined) throw new InvalidArgumentError(`unknown stop signal "${name}"`);
  return num;
}
