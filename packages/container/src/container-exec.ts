import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { inject, injectable } from 'inversify';
import {
  ContainerdClient, ContainerStore, deadline, DeadlineExceededError, isNotFound, killTask, Logger, Signals,
  type ContainerId, type ExecSyncResult,
} from '@crikit/core';
import { ContainerConfig } from './container-config.js';
import { ContainerInspection } from './container-inspection.js';
import { ContainerIo } from './container-io.js';
import { execProcessAny, execStartError, execTarget } from './exec-process.js';
/**
 * How long ExecSync keeps reading output after the process exited. A child it left in the
 * background can hold the output FIFOs open forever; after this, what was read is the answer.
 */
export const execSyncDrainTimeoutMs = 5_000;
/**
 * The most stdout plus stderr one ExecSync reply carries: the kubelet's (and crikit's) gRPC
 * message limit of 16 MiB, less room for the rest of the message.
 */
export const execSyncReplyMaxBytes = (16 << 20) - (64 << 10);

/** ExecSync: a process in a running container through containerd's task Exec, its output collected. */
@injectable()
export class ContainerExec {
  constructor(
    @inject(ContainerStore) private readonly store: ContainerStore,
    @inject(ContainerdClient) private readonly containerd: ContainerdClient,
    @inject(ContainerIo) private readonly io: ContainerIo,
    @inject(ContainerConfig) private readonly config: ContainerConfig,
    @inject(ContainerInspection) private readonly inspection: ContainerInspection,
    @inject(Logger) private readonly log: Logger,
  ) {}

  /** Runs `cmd`; see core's ContainerManager.execSync. */
  async execSync(id: ContainerId, cmd: readonly string[], timeoutSeconds: number, signal: AbortSignal): Promise<ExecSyncResult> {
    const { what } = execTarget(this.store, id, cmd);
    const spec = await execProcessAny(this.inspection, this.containerd, id, cmd, false, signal);
    const execId = randomBytes(16).toString('hex');
    const io = await this.io.open(id, execId, { tty: false });
    const stdout = collect(io.output.stdout!, this.config.execSyncMaxOutputBytes);
    const stderr = collect(io.output.stderr!, this.config.execSyncMaxOutputBytes);
    const call = { containerId: id, execId };
    try {
      await this.containerd.tasks.exec({ ...call, stdin: '', stdout: io.paths.stdout, stderr: io.paths.stderr, terminal: false, spec }, { signal });
      // CRI: a timeout of 0 means none.
      const limit = deadline(signal, timeoutSeconds > 0 ? timeoutSeconds * 1000 : 2 ** 31 - 1);
      const waiting = this.containerd.tasks.wait(call, { signal: limit.signal });
      await this.containerd.tasks.start(call, { signal }).catch(err => { throw execStartError(err, what, cmd); });
      let exit;
      try {
        exit = await waiting;
      } catch (err) {
        if (signal.aborted || !limit.signal.aborted) throw err;
        await killTask(this.containerd, id, Signals.SIGKILL, { execId, signal: AbortSignal.timeout(10_000) });
        await this.containerd.tasks.wait(call, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
        throw new DeadlineExceededError(`${what}: command timed out after ${timeoutSeconds}s and was killed`, { cause: err });
      } finally {
        limit.dispose();
      }
      const output = Promise.all([stdout, stderr]);
      if (!(await settlesWithin(output, execSyncDrainTimeoutMs))) {
        this.log.info({ container: id, execId }, 'exec output still open after the process exited (a background child holds it); not waiting');
        // Closing the read sides ends both collections with what they have.
        io.destroy();
      }
      const [out, err] = await output;
      return { ...fitExecSyncReply(out, err, execSyncReplyMaxBytes), exitCode: exit.exitStatus };
    } finally {
      io.destroy();
      await this.containerd.tasks.deleteProcess(call, { signal: AbortSignal.timeout(10_000) })
        .catch(err => { if (!isNotFound(err)) this.log.warn({ container: id, execId, err }, 'delete exec process'); });
      await this.io.removeProcess(id, execId);
    }
  }
}

/**
 * stdout and stderr cut so that together they fit in `maxBytes`: each keeps at least half the
 * room when it needs it, and what one leaves unused the other may take.
 */
export function fitExecSyncReply(stdout: Buffer, stderr: Buffer, maxBytes: number): { stdout: Buffer; stderr: Buffer } {
  if (stdout.length + stderr.length <= maxBytes) return { stdout, stderr };
  const half = Math.floor(maxBytes / 2);
  const errKeep = Math.min(stderr.length, Math.max(half, maxBytes - stdout.length));
  const outKeep = Math.min(stdout.length, maxBytes - errKeep);
  return { stdout: stdout.subarray(0, outKeep), stderr: stderr.subarray(0, errKeep) };
}

/** True when `p` settles within `ms`; its rejection is left to whoever awaits it. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>(resolve => { timer = setTimeout(() => resolve(false), ms); });
  try {
    return await Promise.race([p.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads a stream to its end, keeping at most `max` bytes (the rest is drained and dropped). */
function collect(stream: Readable, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      if (size >= max) return;
      const part = chunk.subarray(0, max - size);
      parts.push(part);
      size += part.length;
    });
    stream.on('end', () => resolve(Buffer.concat(parts)));
    stream.on('close', () => resolve(Buffer.concat(parts)));
    stream.on('error', reject);
  });
}
