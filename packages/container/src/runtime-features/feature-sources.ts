import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import { injectable } from 'inversify';
import { kernelAtLeast, type KernelFeatures } from './oci-features.js';

/** Where runtime features are read from: the handlers' binaries and the kernel (faked in unit tests). */
export interface FeatureSources {
  /**
   * The standard output of `<binary> features`.
   * @throws Error saying why there is none: no such binary, a non-zero exit (with its stderr), the signal
   */
  runtimeFeatures(binary: string, signal: AbortSignal): Promise<string>;
  /** What the running kernel allows. */
  kernel(): Promise<KernelFeatures>;
}
export const FeatureSources = Symbol('FeatureSources');

const readTrimmed = (file: string): Promise<string | undefined> => fs.readFile(file, 'utf8').then(t => t.trim(), () => undefined);

/** The real sources: runs the binary (found on PATH unless absolute) and reads /proc. */
@injectable()
export class HostFeatureSources implements FeatureSources {
  runtimeFeatures(binary: string, signal: AbortSignal): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(binary, ['features'], { signal, maxBuffer: 1 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
        if (!err) { resolve(stdout); return; }
        // A number is the exit status; a string (ENOENT, EACCES, ABORT_ERR) says why it did not run.
        const code = (err as { code?: unknown }).code;
        const why = typeof code === 'number' ? `exit status ${code}` : typeof code === 'string' ? code : err.message;
        const detail = stderr.trim().split('\n').at(-1) ?? '';
        reject(new Error(`${binary} features: ${why}${detail ? `: ${detail}` : ''}`, { cause: err }));
      });
    });
  }

  async kernel(): Promise<KernelFeatures> {
    const release = os.release();
    const max = Number(await readTrimmed('/proc/sys/user/max_user_namespaces') ?? '0');
    // Debian's and Ubuntu's kernels have this switch; where it exists and is 0, user namespaces are kept from unprivileged users.
    const clone = await readTrimmed('/proc/sys/kernel/unprivileged_userns_clone');
    return {
      release,
      recursiveReadOnlyMounts: kernelAtLeast(release, 5, 12),
      userNamespaces: max > 0 && clone !== '0',
    };
  }
}
