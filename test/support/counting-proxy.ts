import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A plain HTTP proxy in front of a registry that counts requests and can act on blob bytes. */
export interface CountingProxy {
  /** `127.0.0.1:<port>`: use it as the registry host in references. */
  readonly host: string;
  readonly url: string;
  /** `METHOD path` → how many times it was asked. */
  readonly requests: Map<string, number>;
  /** Called as blob bytes pass through: `(path, bytes so far in this response)`; 'stall' stops the response there, open. */
  onBlobBytes?: (path: string, bytes: number) => void | 'stall';
  /** How many GETs for blob `digest` reached the registry. */
  blobGets(digest: string): number;
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 that forwards everything to `upstream` (`http://127.0.0.1:<port>`). */
export async function countingProxy(upstream: string): Promise<CountingProxy> {
  const target = new URL(upstream);
  const requests = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const key = `${req.method} ${req.url?.split('?')[0]}`;
    requests.set(key, (requests.get(key) ?? 0) + 1);
    const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host }, agent: false }, upRes => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      let bytes = 0;
      upRes.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (req.url?.includes('/blobs/') && proxy.onBlobBytes?.(req.url, bytes) === 'stall') {
          upRes.unpipe(res);
          upRes.pause();
        }
      });
      upRes.on('error', () => res.destroy());
      upRes.on('aborted', () => res.destroy());
      upRes.pipe(res);
    });
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    req.pipe(up);
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const proxy: CountingProxy = {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    requests,
    blobGets: digest => [...requests].filter(([k]) => k.startsWith('GET ') && k.endsWith(`/blobs/${digest}`)).reduce((n, [, c]) => n + c, 0),
    close: () => new Promise(resolve => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
  return proxy;
}
