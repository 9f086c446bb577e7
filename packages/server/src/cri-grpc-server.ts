import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { inject, injectable, multiInject } from 'inversify';
import { cri } from '@crikit/api';
import { FailedPreconditionError, Logger, UnavailableError } from '@crikit/core';
import { defineService } from './grpc/define-service.js';
import { LoggingRpcWrapper } from './grpc/rpc-wrapper.js';
import { FirstRequestRouter } from './grpc/h2/first-request-router.js';
import { CriHandlerGroup } from './cri-handler-group.js';
import { defineCrikitImagesService } from './crikit-images-service.js';
import { ServerConfig } from './server-config.js';
import { socketOwnership } from './socket-owner.js';

/** The gRPC server behind the CRI socket: RuntimeService and ImageService, and crikit's own Images service. */
@injectable()
export class CriGrpcServer {
  private server: grpc.Server | undefined;
  private listener: net.Server | undefined;
  private readonly connections = new Set<net.Socket>();

  constructor(
    @inject(ServerConfig) private readonly config: ServerConfig,
    @inject(Logger) private readonly log: Logger,
    @inject(LoggingRpcWrapper) private readonly wrapper: LoggingRpcWrapper,
    @multiInject(CriHandlerGroup) private readonly groups: CriHandlerGroup[],
  ) {}

  /** The socket path. */
  get socket(): string {
    return this.config.socket;
  }

  /**
   * Binds the socket; a stale socket file is removed first. The socket is bound under a private
   * name, given its mode and owner there, and only then renamed into place: it never exists at
   * its path with looser permissions, whatever crikitd's umask.
   * @throws FailedPreconditionError when something already answers on the socket; InvalidArgumentError for an unknown owner or group
   */
  async listen(): Promise<void> {
    await this.clearStaleSocket();
    const owner = await socketOwnership(this.config.socketOwner, this.config.socketGroup);
    const dir = path.dirname(this.socket);
    await fs.mkdir(dir, { recursive: true });
    await removeOldStaging(dir);
    // mkdtemp makes the directory 0700, on the socket's file system so that rename(2) is atomic.
    const staging = await fs.mkdtemp(path.join(dir, STAGING_PREFIX));
    const bound = path.join(staging, 's');
    let server: grpc.Server | undefined;
    try {
      server = new grpc.Server({ 'grpc.max_receive_message_length': 16 << 20, 'grpc.max_send_message_length': 16 << 20 });
      const runtime = defineService(cri.RuntimeServiceDefinition, merge(this.groups.map(g => g.runtime?.() ?? {})), this.wrapper);
      const image = defineService(cri.ImageServiceDefinition, merge(this.groups.map(g => g.image?.() ?? {})), this.wrapper);
      server.addService(runtime.service, runtime.implementation);
      server.addService(image.service, image.implementation);
      const crikitImages = defineCrikitImagesService(merge(this.groups.map(g => g.crikitImages?.() ?? {})), this.wrapper);
      server.addService(crikitImages.service, crikitImages.implementation);
      if (this.config.acceptAnyAuthority) this.listener = await this.listenAcceptingAnyAuthority(server, bound);
      else await this.bindGrpc(server, bound);
      await fs.chmod(bound, this.config.socketMode);
      if (owner.uid !== -1 || owner.gid !== -1) await fs.chown(bound, owner.uid, owner.gid);
      await fs.rename(bound, this.socket);
      this.server = server;
    } catch (err) {
      this.listener?.close();
      this.listener = undefined;
      server?.forceShutdown();
      throw err;
    } finally {
      await fs.rm(staging, { recursive: true, force: true });
    }
    this.log.info({ socket: this.socket, mode: this.config.socketMode.toString(8), ...owner }, 'serving CRI');
  }

  /** Stops taking calls, waits for in-flight ones until `signal` fires, then cuts the rest; removes the socket. Idempotent. */
  async shutdown(signal: AbortSignal): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.listener?.close();
    this.listener = undefined;
    if (server) {
      this.wrapper.endStreams();
      const graceful = new Promise<void>(resolve => server.tryShutdown(() => resolve()));
      const cut = new Promise<void>(resolve => signal.addEventListener('abort', () => resolve(), { once: true }));
      await Promise.race([graceful, cut, this.wrapper.drain(signal).then(() => graceful)]);
      server.forceShutdown();
    }
    for (const conn of this.connections) conn.destroy();
    await fs.rm(this.socket, { force: true });
  }

  // crikit accepts the unix connections itself and lets FirstRequestRouter hand each to grpc-js, so
  // that any :authority is accepted: older grpc-go clients send the socket path, which Node's HTTP/2
  // layer refuses with a stream error on every call.
  private async listenAcceptingAnyAuthority(server: grpc.Server, socket: string): Promise<net.Server> {
    const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    const listener = net.createServer({ allowHalfOpen: true }, conn => {
      this.connections.add(conn);
      conn.once('close', () => this.connections.delete(conn));
      FirstRequestRouter.route(conn, c => injector.injectConnection(c));
    });
    await new Promise<void>((resolve, reject) => {
      listener.once('error', err => reject(new UnavailableError(`listen on ${this.socket}`, { cause: err })));
      listener.listen(socket, () => resolve());
    });
    listener.on('error', err => this.log.warn({ err, socket: this.socket }, 'CRI socket error'));
    return listener;
  }

  private bindGrpc(server: grpc.Server, socket: string): Promise<void> {
    return new Promise<void>((resolve, reject) => server.bindAsync(`unix:${socket}`, grpc.ServerCredentials.createInsecure(),
      err => (err ? reject(new UnavailableError(`listen on ${this.socket}`, { cause: err })) : resolve())));
  }

  // A socket file left by a crashed crikit is removed; one that answers belongs to a live runtime.
  private async clearStaleSocket(): Promise<void> {
    const st = await fs.lstat(this.socket).catch(() => undefined);
    if (!st) return;
    if (!st.isSocket()) throw new FailedPreconditionError(`${this.socket} exists and is not a socket`);
    if (await answers(this.socket)) throw new FailedPreconditionError(`another runtime already serves ${this.socket}`);
    this.log.info({ socket: this.socket }, 'removing stale socket');
    await fs.rm(this.socket, { force: true });
  }
}

/** The private directories a socket is bound in before it is renamed into place. */
const STAGING_PREFIX = '.ck-';

// A crikitd killed between bind and rename leaves its staging directory; one older than a minute
// belongs to nobody (a live start-up renames within milliseconds).
async function removeOldStaging(dir: string): Promise<void> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  for (const name of names.filter(n => n.startsWith(STAGING_PREFIX) && n.length === STAGING_PREFIX.length + 6)) {
    const st = await fs.lstat(path.join(dir, name)).catch(() => undefined);
    if (st?.isDirectory() && Date.now() - st.mtimeMs > 60_000) await fs.rm(path.join(dir, name), { recursive: true, force: true });
  }
}

function answers(socket: string): Promise<boolean> {
  return new Promise(resolve => {
    const conn = net.connect(socket);
    conn.once('connect', () => { conn.destroy(); resolve(true); });
    conn.once('error', () => resolve(false));
  });
}

function merge<T extends object>(parts: T[]): T {
  return Object.assign({}, ...parts) as T;
}
