import { spawn, type ChildProcess } from 'node:child_process';
import type net from 'node:net';
import { netnsDialHelperSource } from './netns-dial-helper.js';

/** How long a helper without dials is kept before it is let go (it pins its network namespace). */
const defaultIdleMs = 30_000;

/** A dial that could not connect; `code` is the errno name (`ECONNREFUSED`) when there is one. */
export class DialError extends Error {
  constructor(message: string, readonly code: string | undefined) {
    super(message);
  }
}

/** One helper process living in one network namespace. */
interface Helper {
  readonly child: ChildProcess;
  readonly pending: Map<number, { resolve(s: net.Socket): void; reject(e: Error): void }>;
  idle: NodeJS.Timeout | undefined;
  stderr: string;
}

/**
 * Dials TCP ports on the loopback of network namespaces without a process per connection: one
 * long-lived helper per namespace (`nsenter --net=<netns> node -e <netnsDialHelperSource>`) makes each
 * connection inside the namespace and hands the connected socket back over its IPC channel. A
 * helper goes after `idleMs` without dials, on `release(netns)`, on `close()`, and when crikitd exits.
 */
export class NetnsDialers {
  private readonly helpers = new Map<string, Helper>();
  private nextId = 1;

  constructor(private readonly idleMs = defaultIdleMs) {}

  /**
   * A socket connected to 127.0.0.1:`port` inside `netns`.
   * @throws DialError when the connection fails (code ECONNREFUSED when nobody listens), or the helper cannot run
   */
  dial(netns: string, port: number, signal: AbortSignal): Promise<net.Socket> {
    const helper = this.helper(netns);
    const id = this.nextId++;
    if (helper.idle) clearTimeout(helper.idle);
    helper.idle = undefined;
    return new Promise<net.Socket>((resolve, reject) => {
      const onAbort = (): void => { settle(); reject(signal.reason as Error); };
      const settle = (): void => {
        helper.pending.delete(id);
        signal.removeEventListener('abort', onAbort);
        this.armIdle(netns, helper);
      };
      helper.pending.set(id, {
        resolve: s => { settle(); if (signal.aborted) s.destroy(); else resolve(s); },
        reject: e => { settle(); reject(e); },
      });
      signal.addEventListener('abort', onAbort, { once: true });
      helper.child.send({ id, port }, err => { if (err) helper.pending.get(id)?.reject(new DialError(`send to the netns helper: ${err.message}`, undefined)); });
    });
  }

  /** Lets the helper of `netns` go (its pod stopped). Idempotent. */
  release(netns: string): void {
    const helper = this.helpers.get(netns);
    if (!helper) return;
    this.helpers.delete(netns);
    if (helper.idle) clearTimeout(helper.idle);
    helper.child.kill('SIGKILL');
  }

  /** Lets every helper go. */
  close(): void {
    for (const netns of [...this.helpers.keys()]) this.release(netns);
  }

  private helper(netns: string): Helper {
    const existing = this.helpers.get(netns);
    if (existing) return existing;
    const child = spawn('nsenter', [`--net=${netns}`, '--', process.execPath, '--input-type=commonjs', '-e', netnsDialHelperSource], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    const helper: Helper = { child, pending: new Map(), idle: undefined, stderr: '' };
    child.stderr!.on('data', (d: Buffer) => { if (helper.stderr.length < 4096) helper.stderr += d.toString(); });
    child.on('message', (m: { id: number; error?: string }, socket?: net.Socket) => {
      const waiter = helper.pending.get(m.id);
      if (!waiter) { socket?.destroy(); return; }
      if (socket) waiter.resolve(socket);
      else waiter.reject(new DialError(m.error === 'ECONNREFUSED' ? 'connection refused' : `dial: ${m.error}`, m.error));
    });
    const gone = (why: string): void => {
      if (this.helpers.get(netns) === helper) this.helpers.delete(netns);
      if (helper.idle) clearTimeout(helper.idle);
      const message = `netns helper ${why}${helper.stderr ? `: ${helper.stderr.trim().split('\n').pop()}` : ''}`;
      for (const w of [...helper.pending.values()]) w.reject(new DialError(message, undefined));
    };
    child.once('error', err => gone(`could not run: ${err.message}`));
    child.once('exit', (code, sig) => gone(`exited with ${code ?? sig}`));
    // Neither the helper nor its channel keeps crikitd's event loop alive.
    child.unref();
    (child.channel as { unref?: () => void } | undefined)?.unref?.();
    this.helpers.set(netns, helper);
    return helper;
  }

  private armIdle(netns: string, helper: Helper): void {
    if (helper.pending.size > 0 || this.helpers.get(netns) !== helper) return;
    if (helper.idle) clearTimeout(helper.idle);
    helper.idle = setTimeout(() => { if (helper.pending.size === 0) this.release(netns); }, this.idleMs);
    helper.idle.unref();
  }
}
