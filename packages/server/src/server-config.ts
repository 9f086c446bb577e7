import { z } from 'zod';

const idOrName = z.union([z.number().int().min(0).max(2 ** 32 - 2), z.string().min(1).regex(/^[^:\s]+$/, 'must be a name without ":" or spaces')]);

/** The CRI socket and how the daemon shuts down. */
export const serverConfigSchema = z.strictObject({
  socket: z.string().startsWith('/', 'must be an absolute path').default('/run/crikit/crikit.sock')
    .describe('unix socket the CRI services listen on (the kubelet\'s --container-runtime-endpoint)'),
  socketMode: z.number().int().min(0).max(0o777).default(0o660)
    .describe('file mode of the socket (TOML octal, e.g. 0o660)'),
  socketOwner: idOrName.optional()
    .describe("owner of the socket: a uid or a user name from /etc/passwd; unset: crikitd's own (containerd's grpc.uid)"),
  socketGroup: idOrName.optional()
    .describe("group of the socket: a gid or a group name from /etc/group; unset: crikitd's own (containerd's grpc.gid)"),
  acceptAnyAuthority: z.boolean().default(true)
    .describe('accept calls whatever their HTTP/2 :authority (kubelets and crictl before 1.31 send the socket path, which Node\'s HTTP/2 layer refuses); false lets grpc-js own the socket, and such clients fail'),
  shutdownTimeoutMs: z.number().int().positive().default(10_000)
    .describe('how long SIGTERM waits for in-flight calls before closing them'),
});
export type ServerConfig = z.infer<typeof serverConfigSchema>;
export const ServerConfig = Symbol('ServerConfig');
