import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inject, injectable } from 'inversify';
import { PathsConfig } from '@crikit/core';
import { kernelAtLeast, type KernelFeatures } from './oci-features.js';
import { probeOciRuntime, type RuntimeProbeResult } from './runtime-probe.js';

/** Where runtime features are read from: the handlers' binaries and the kernel (faked in unit tests). */
export interface FeatureSources {
  /**
   * The standard output of `<binary> features`.
   * @throws Error saying why there is none: no such binary, a non-zero exit (with its stderr), the signal
   */
  runtimeFeatures(binary: string, signal: AbortSignal): Promise<string>;
  /**
   * The standard output of `<binary> --version`, for a binary without `features`.
   * @throws Error as `runtimeFeatures`
   */
  runtimeVersion(binary: string, signal: AbortSignal): Promise<string>;
  /**
   * Runs crun-like `binary` for real on throwaway containers (see `probeOciRuntime`): what works here.
   * @throws when `signal` fires, or the probe's files cannot be made
   */
  probeRuntime(binary: string, signal: AbortSignal): Promise<RuntimeProbeResult>;
  /** What the running kernel allows. */
  kernel(): Promise<KernelFeatures>;
}
export const FeatureSources = Symbol('FeatureSources');

const readTrimmed = (file: string): Promise<string | undefined> => fs.readFile(file, 'utf8').then(t => t.trim(), () => undefined);

/** The real sources: runs the binary (found on PATH unless absolute) and reads /proc. */
@injectable()
export class HostFeatureSources implements FeatureSources {
  constructor(@inject(PathsConfig) private readonly paths: PathsConfig) {}

  runtimeFeatures(binary: string, signal: AbortSignal): Promise<string> {
    return runSubcommand(binary, 'features', signal);
  }

  runtimeVersion(binary: string, signal: AbortSignal): Promise<string> {
    return runSubcommand(binary, '--version', signal);
  }

  /** The probe's files go under `<rootDir>/runtime-probes/`, on the file system that holds pods' volumes on most nodes. */
  probeRuntime(binary: string, signal: AbortSignal): Promise<RuntimeProbeResult> {
    const dir = path.join(this.paths.rootDir, 'runtime-probes', binary.replace(/[^A-Za-z0-9._-]/g, '_'));
    return probeOciRuntime(binary, dir, signal);
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

/** The standard output of `<binary> <arg>`; @throws Error saying why there is none */
function runSubcommand(binary: string, arg: string, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(binary, [arg], { signal, maxBuffer: 1 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) { resolve(stdout); return; }
      // A number is the exit status; a string (ENOENT, EACCES, ABORT_ERR) says why it did not run.
      const code = (err as { code?: unknown }).code;
      const why = typeof code === 'number' ? `exit status ${code}` : typeof code === 'string' ? code : err.message;
      const detail = stderr.trim().split('\n').at(-1) ?? '';
      reject(new Error(`${binary} ${arg}: ${why}${detail ? `: ${detail}` : ''}`, { cause: err }));
    });
  });
}
