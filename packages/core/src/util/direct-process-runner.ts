import { spawn } from 'node:child_process';
import { defaultMaxOutputBytes, type ProcessRequest, type ProcessResult, type ProcessRunner } from '../contracts/process-runner.js';
import { abortError, DeadlineExceededError, UnavailableError } from '../errors.js';

/**
 * Runs programs from the calling process, with ProcessRunner's semantics. Each spawn holds the event loop
 * while the process forks; crikitd uses SpawnHelper instead, this is for tools and tests.
 */
export class DirectProcessRunner implements ProcessRunner {
  run(req: ProcessRequest, signal: AbortSignal): Promise<ProcessResult> {
    const { doing } = req;
    const limit = req.maxOutputBytes ?? defaultMaxOutputBytes;
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(abortError(signal, doing));
      const child = spawn(req.file, [...(req.args ?? [])], {
        env: { ...process.env, ...req.env }, stdio: ['pipe', 'pipe', 'pipe'], detached: req.ownGroup ?? false,
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let bytes = 0;
      let outputExceeded = false;
      let failed: Error | undefined;
      const kill = (): void => {
        try {
          if (req.ownGroup && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
          else child.kill('SIGKILL');
        } catch {
          child.kill('SIGKILL'); // the group is gone already; make sure of the program itself
        }
      };
      const timer = setTimeout(() => {
        failed ??= new DeadlineExceededError(`${doing}: no answer within ${req.timeoutMs}ms, killed`);
        kill();
      }, req.timeoutMs);
      const onAbort = (): void => { failed ??= abortError(signal, doing); kill(); };
      signal.addEventListener('abort', onAbort, { once: true });
      const collect = (into: Buffer[]) => (chunk: Buffer): void => {
        if (outputExceeded) return;
        const room = limit - bytes;
        bytes += chunk.length;
        if (bytes <= limit) return void into.push(chunk);
        into.push(chunk.subarray(0, Math.max(0, room)));
        outputExceeded = true;
        kill();
      };
      child.stdout.on('data', collect(out));
      child.stderr.on('data', collect(err));
      // A program may exit without reading stdin; the resulting EPIPE is not the failure to report.
      child.stdin.on('error', () => {});
      child.stdin.end(req.stdin ?? '');
      const finish = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      child.on('error', e => {
        finish();
        reject(new UnavailableError(`${doing}: cannot run ${req.file}: ${e.message}`, { cause: e }));
      });
      // Once killed, do not wait for the pipes: a grandchild outside the group could hold them open.
      const settle = (code: number | null, sig: NodeJS.Signals | null): void => {
        finish();
        if (failed) return reject(failed);
        resolve({ code, signal: sig, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), outputExceeded });
      };
      child.on('exit', (code, sig) => { if (failed || outputExceeded) settle(code, sig); });
      child.on('close', settle);
    });
  }
}
