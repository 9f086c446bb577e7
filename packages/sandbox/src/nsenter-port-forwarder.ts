import { spawn } from 'node:child_process';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { inject, injectable } from 'inversify';
import { abortError, FailedPreconditionError, Logger, SandboxStore, UnavailableError, type PortForwarder, type SandboxId } from '@crikit/core';

/**
 * Once one direction has ended, how long the other may go on (socat's -t): containerd's CRI gives
 * the second copy one second after the first finished.
 */
const halfCloseSeconds = 1;

/**
 * PortForward into a pod's network namespace. Node cannot switch one of its threads into another
 * netns, so each connection runs `nsenter --net=<netns> socat - TCP4:127.0.0.1:<port>` and copies
 * the stream through its stdin and stdout (as the kubelet's dockershim did). A host-network pod's
 * ports are on the host: those are dialled directly.
 */
@injectable()
export class NsenterPortForwarder implements PortForwarder {
  constructor(
    @inject(SandboxStore) private readonly store: SandboxStore,
    @inject(Logger) private readonly log: Logger,
  ) {}

  async portForward(id: SandboxId, port: number, stream: Duplex, signal: AbortSignal): Promise<void> {
    const record = this.store.get(id);
    const what = `port forward to port ${port} of pod ${record.metadata.name}`;
    if (record.status.state !== 'ready') throw new FailedPreconditionError(`${what}: the sandbox is not ready`);
    if (signal.aborted) throw abortError(signal, what);
    const netns = record.metadata.netnsPath;
    return netns ? this.viaSocat(netns, port, stream, signal, what) : dialHost(port, stream, signal, what);
  }

  private viaSocat(netns: string, port: number, stream: Duplex, signal: AbortSignal, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn('nsenter', [`--net=${netns}`, '--', 'socat', '-t', String(halfCloseSeconds), '-', `TCP4:127.0.0.1:${port}`],
        { stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => { if (stderr.length < 4096) stderr += d.toString(); });
      const onAbort = (): void => { child.kill('SIGKILL'); };
      signal.addEventListener('abort', onAbort, { once: true });
      stream.pipe(child.stdin);
      child.stdin.on('error', () => undefined);
      child.stdout.pipe(stream);
      stream.once('close', () => { if (child.exitCode === null) child.kill('SIGKILL'); });
      stream.on('error', () => undefined);
      const outputEnded = new Promise<void>(r => { child.stdout.once('close', () => r()); });
      child.once('error', err => {
        signal.removeEventListener('abort', onAbort);
        reject(new UnavailableError(`${what}: run nsenter/socat: ${err.message}`, { cause: err }));
      });
      child.once('exit', (code, sig) => {
        signal.removeEventListener('abort', onAbort);
        stream.unpipe(child.stdin);
        void outputEnded.then(() => {
          if (signal.aborted) { reject(abortError(signal, what)); return; }
          if (code === 0 || (sig === 'SIGKILL' && stream.destroyed)) {
            if (!stream.writableEnded && !stream.destroyed) stream.end();
            resolve();
            return;
          }
          const reason = /Connection refused/i.test(stderr) ? 'connection refused' : stderr.trim().split('\n').pop() || `socat exited with ${code ?? sig}`;
          this.log.debug({ netns, port, stderr }, 'port forward: socat failed');
          reject(new UnavailableError(`${what}: ${reason}`));
        });
      });
    });
  }
}

/** Connects to `port` on the host's loopback and copies both ways until both sides are done. */
function dialHost(port: number, stream: Duplex, signal: AbortSignal, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let connected = false;
    const onAbort = (): void => { socket.destroy(); };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      connected = true;
      stream.pipe(socket);
      socket.pipe(stream);
    });
    socket.on('error', err => {
      if (!connected) {
        signal.removeEventListener('abort', onAbort);
        reject(new UnavailableError(`${what}: ${(err as NodeJS.ErrnoException).code === 'ECONNREFUSED' ? 'connection refused' : err.message}`, { cause: err }));
      }
    });
    stream.on('error', () => socket.destroy());
    stream.once('close', () => socket.destroy());
    socket.once('close', () => {
      signal.removeEventListener('abort', onAbort);
      if (!connected) return;
      if (signal.aborted) reject(abortError(signal, what));
      else resolve();
    });
  });
}
