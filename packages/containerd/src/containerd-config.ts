import { isAbsolute } from 'node:path';
import { z } from 'zod';

/** Unix socket paths are limited to 107 bytes (108 with the terminating NUL) on Linux. */
const maxSocketPathBytes = 107;

/** The longest socket name ManagedContainerd puts in its state dir. */
const longestManagedSocket = '/containerd.sock.ttrpc';

/** containerd's identifier rule for namespaces (identifiers.Validate): alphanumerics joined by `.`, `_` or `-`. */
const namespacePattern = /^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/;

const absolutePath = z.string().min(1).refine(isAbsolute, { message: 'must be an absolute path' });

/** The managed containerd child process: where it keeps its files and how long it may take. */
const managedSchema = z.strictObject({
  /** The containerd binary, a name looked up in PATH or an absolute path. */
  binary: z.string().min(1).default('containerd')
    .describe('the containerd binary (looked up in PATH, or an absolute path)'),
  /** containerd's `root`: content, snapshots, metadata. */
  rootDir: absolutePath.default('/var/lib/crikit/containerd')
    .describe("containerd's root: content, snapshots, metadata"),
  /** containerd's `state`: sockets and runtime state; the gRPC socket is `<stateDir>/containerd.sock`. */
  stateDir: absolutePath
    .refine(dir => Buffer.byteLength(dir + longestManagedSocket) <= maxSocketPathBytes, {
      message: `too long: the sockets inside it must fit in ${maxSocketPathBytes} bytes`,
    })
    .default('/run/crikit/containerd')
    .describe("containerd's state dir, holding its gRPC socket containerd.sock"),
  /** How long containerd may take to answer after it is spawned. */
  startTimeoutMs: z.number().int().positive().default(30_000)
    .describe('how long the managed containerd may take to answer after it is spawned'),
  /** How long containerd may take to exit after SIGTERM before it gets SIGKILL. */
  stopTimeoutMs: z.number().int().positive().default(10_000)
    .describe('how long it may take to exit after SIGTERM before SIGKILL'),
  /** containerd's `[debug] level`; its log lines go to crikit's logger at debug. */
  logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('warn')
    .describe("containerd's log level; its lines go to crikit's log at debug"),
  /** Not read by the managed containerd (containerd has no global default snapshotter; pulls use `image.snapshotter`). */
  snapshotter: z.string().min(1).default('overlayfs')
    .describe('not read (containerd has no default snapshotter of its own); images and containers use image.snapshotter'),
});

/**
 * The `containerd` slice of crikit's config. Every key has a default, so `containerdConfigSchema.parse({})`
 * is a working config: a managed containerd under /var/lib/crikit/containerd, namespace `k8s.io`.
 * Unknown keys are refused, so a misspelt key is reported instead of ignored.
 */
export const containerdConfigSchema = z.strictObject({
  /**
   * `managed` to run containerd as a child process (see `managed`), or the path of a running containerd's
   * gRPC socket (`/run/containerd/containerd.sock`, `unix://` prefix allowed).
   */
  address: z.string()
    .refine(a => a === 'managed' || isAbsolute(a.replace(/^unix:\/\//, '')), {
      message: 'must be "managed" or an absolute unix socket path',
    })
    .refine(a => Buffer.byteLength(a.replace(/^unix:\/\//, '')) <= maxSocketPathBytes, {
      message: `a unix socket path must fit in ${maxSocketPathBytes} bytes`,
    })
    .default('managed')
    .describe('"managed" to run containerd as a child, or the socket path of a running containerd'),
  /** The containerd namespace every call is made in; containerd creates it on first use. */
  namespace: z.string().max(76).regex(namespacePattern, { message: 'must be a containerd identifier such as "k8s.io"' })
    .default('k8s.io')
    .describe('the containerd namespace crikit works in'),
  /** How long start-up waits for containerd to answer before giving up. */
  connectTimeoutMs: z.number().int().positive().default(10_000)
    .describe('how long start-up waits for containerd to answer'),
  /** Settings of the managed containerd; ignored when `address` is a socket path. */
  managed: managedSchema.prefault({}),
});

/** The parsed `containerd` config slice, every key present. */
export type ContainerdConfig = z.infer<typeof containerdConfigSchema>;
/** DI token of the `containerd` config slice; the server binds it to `config.containerd`. */
export const ContainerdConfig = Symbol('ContainerdConfig');

