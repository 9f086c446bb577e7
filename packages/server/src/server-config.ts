import { z } from 'zod';

/** The CRI socket and how the daemon shuts down. */
export const serverConfigSchema = z.strictObject({
  socket: z.string().startsWith('/', 'must be an absolute path').default('/run/crikit/crikit.sock')
    .describe('unix socket the CRI services listen on (the kubelet\'s --container-runtime-endpoint)'),
  socketMode: z.number().int().min(0).max(0o777).default(0o660)
    .describe('file mode of the socket (TOML octal, e.g. 0o660)'),
  shutdownTimeoutMs: z.number().int().positive().default(10_000)
    .describe('how long SIGTERM waits for in-flight calls before closing them'),
});
export type ServerConfig = z.infer<typeof serverConfigSchema>;
export const ServerConfig = Symbol('ServerConfig');
