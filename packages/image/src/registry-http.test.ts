// Redirects and credentials in the registry transport, against node:http(s) servers on 127.0.0.1.
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingHttpHeaders, type RequestListener } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { readBody, RegistryHttp, withoutCredentials } from './registry-http.js';
import { TEST_CERT, TEST_KEY } from './testing/test-certificate.js';

interface Seen { readonly scheme: string; readonly path: string; readonly headers: IncomingHttpHeaders }

/**
 * One port that answers both https and plain http (told apart by the first byte: 0x16 opens a TLS
 * handshake), so a redirect can change the scheme and nothing else.
 */
async function dualServer(handler: (scheme: string) => RequestListener): Promise<{ port: number; close(): void }> {
  const plain = createHttpServer(handler('http'));
  const tls = createHttpsServer({ cert: TEST_CERT, key: TEST_KEY }, handler('https'));
  const listen = async (s: net.Server): Promise<number> => {
    await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve));
    return (s.address() as AddressInfo).port;
  };
  const ports = { http: await listen(plain), https: await listen(tls) };
  // The front port relays each connection to the server its first byte asks for.
  const server = net.createServer(socket => {
    socket.once('data', first => {
      const back = net.connect(first[0] === 0x16 ? ports.https : ports.http, '127.0.0.1');
      back.write(first);
      socket.pipe(back).pipe(socket);
      socket.on('error', () => back.destroy());
      back.on('error', () => socket.destroy());
    });
  });
  const port = await listen(server);
  return {
    port,
    close: () => {
      for (const s of [server, plain, tls]) {
        s.close();
        (s as { closeAllConnections?: () => void }).closeAllConnections?.();
      }
    },
  };
}

async function read(http: RegistryHttp, url: string, headers: Record<string, string>): Promise<string> {
  const res = await http.send({ method: 'GET', url: new URL(url), headers, tls: { skipVerify: true, caPems: [] } }, AbortSignal.timeout(10_000), 'test');
  return (await readBody(res, 1024, () => new Error('too large'))).toString();
}

describe('RegistryHttp redirects', () => {
  const seen: Seen[] = [];
  const closers: (() => void)[] = [];
  after(() => closers.forEach(c => c()));
  const record = (scheme: string, redirects: Record<string, string>): RequestListener => (req, res) => {
    seen.push({ scheme, path: req.url ?? '', headers: req.headers });
    const to = redirects[req.url ?? ''];
    if (to !== undefined) res.writeHead(307, { location: to }).end();
    else res.end('ok');
  };

  it('drops credentials when https redirects to plain http on the same host and port', async () => {
    seen.length = 0;
    let port = 0;
    const server = await dualServer(scheme => (req, res) => record(scheme, { '/v2/start': `http://127.0.0.1:${port}/v2/next` })(req, res));
    port = server.port;
    closers.push(server.close);
    assert.equal(await read(new RegistryHttp(), `https://127.0.0.1:${port}/v2/start`, { authorization: 'Bearer secret', Cookie: 'c=1' }), 'ok');
    assert.deepEqual(seen.map(s => [s.scheme, s.path]), [['https', '/v2/start'], ['http', '/v2/next']]);
    assert.equal(seen[0]!.headers.authorization, 'Bearer secret');
    assert.equal(seen[1]!.headers.authorization, undefined);
    assert.equal(seen[1]!.headers.cookie, undefined);
  });

  it('drops an Authorization header in any case when the port changes, and keeps it on the same origin', async () => {
    seen.length = 0;
    const other = createHttpServer(record('other', {}));
    await new Promise<void>(resolve => other.listen(0, '127.0.0.1', resolve));
    closers.push(() => other.close());
    const otherPort = (other.address() as AddressInfo).port;
    const first = createHttpServer(record('first', { '/a': '/b', '/b': `http://127.0.0.1:${otherPort}/c` }));
    await new Promise<void>(resolve => first.listen(0, '127.0.0.1', resolve));
    closers.push(() => first.close());
    const port = (first.address() as AddressInfo).port;
    assert.equal(await read(new RegistryHttp(), `http://127.0.0.1:${port}/a`, { AUTHORIZATION: 'Basic dTpw', 'X-Other': 'kept' }), 'ok');
    assert.deepEqual(seen.map(s => [s.scheme, s.path, s.headers.authorization]),
      [['first', '/a', 'Basic dTpw'], ['first', '/b', 'Basic dTpw'], ['other', '/c', undefined]]);
    assert.equal(seen[2]!.headers['x-other'], 'kept');
  });

  it('withoutCredentials matches header names case-insensitively', () => {
    assert.deepEqual(withoutCredentials({ Authorization: 'a', 'proxy-AUTHORIZATION': 'b', COOKIE: 'c', accept: 'd' }), { accept: 'd' });
  });
});
