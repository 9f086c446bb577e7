import path from 'node:path';
import { InvalidArgumentError } from '@crikit/core';

/**
 * Where a container's CRI log goes: its `log_path` under the pod's `log_directory`, or '' when
 * either is unset (then output is drained and dropped). The path may not leave the directory.
 * @throws InvalidArgumentError naming log_path when it climbs out of the pod's log directory
 */
export function containerLogPath(logDirectory: string, logPath: string): string {
  if (!logDirectory || !logPath) return '';
  const dir = path.resolve(logDirectory);
  const file = path.resolve(dir, logPath.replace(/^\/+/, ''));
  const inside = path.relative(dir, file);
  if (inside === '' || inside === '..' || inside.startsWith(`..${path.sep}`) || path.isAbsolute(inside)) {
    throw new InvalidArgumentError(`log_path "${logPath}" leaves the pod's log directory ${logDirectory}`);
  }
  return file;
}
