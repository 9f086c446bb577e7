import { z } from 'zod';

/** Where the Exec/Attach/PortForward streaming server listens, and how long its URLs and streams live. */
export const streamingConfigSchema = z.strictObject({
  address: z.string().min(1).default('127.0.0.1')
    .describe('the address the streaming server listens on; the URLs Exec, Attach and PortForward return point here (containerd\'s stream_server_address)'),
  port: z.number().int().min(0).max(65535).default(0)
    .describe('its TCP port; 0 picks a free one at start (containerd\'s stream_server_port)'),
  tls: z.boolean().default(false)
    .describe('serve https/wss with a self-signed certificate made at start (containerd\'s enable_tls_streaming)'),
  tokenTtlMs: z.number().int().positive().max(2 ** 31 - 1).default(60_000)
    .describe('how long a streaming URL stays valid; each URL works once'),
  idleTimeoutMs: z.number().int().positive().max(2 ** 31 - 1).default(4 * 60 * 60 * 1000)
    .describe('a stream with no traffic in either direction for this long is closed (the kubelet\'s streamingConnectionIdleTimeout)'),
  streamCreationTimeoutMs: z.number().int().positive().max(2 ** 31 - 1).default(30_000)
    .describe('how long a SPDY client may take to open the streams it asked for after the upgrade'),
});
export type StreamingConfig = z.infer<typeof streamingConfigSchema>;
export const StreamingConfig = Symbol('StreamingConfig');
