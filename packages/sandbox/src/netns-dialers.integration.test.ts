// NetnsDialers with a real helper under nsenter, in this process's own network namespace (needs root).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { DialError, NetnsDialers } from './netns-dialers.js';

const ownNetns = '/proc/self/ns/net';
const helperPids = (): string[] => fs.readdirSync('/proc').filter(p => /^\d+$/.test(p)).filter(p => {
  try { return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('netns-dial-helper') && fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ')[1] === String(process.pid); } catch { return false; }
});

describe('NetnsDialers', () => {
  const server = net.createServer(s => s.end('hello from the listener\n'));
  after(() => server.close());

  it('dials through one helper: bytes the peer sends first arrive; a closed port is ECONNREFUSED; idle, the helper goes', async () => {
    await new Promise<void>(r => server.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as net.AddressInfo;
    const dialers = new NetnsDialers(300);
    const read = async (): Promise<string> => {
      const socket = await dialers.dial(ownNetns, port, AbortSignal.timeout(10_000));
      let text = '';
      for await (const chunk of socket) text += chunk;
      return text;
    };
    assert.deepEqual(await Promise.all([read(), read(), read()]), Array(3).fill('hello from the listener\n'));
    assert.equal(helperPids().length, 1);
    const closed = net.createServer();
    await new Promise<void>(r => closed.listen(0, '127.0.0.1', () => r()));
    const closedPort = (closed.address() as net.AddressInfo).port;
    await new Promise(r => closed.close(r));
    await assert.rejects(dialers.dial(ownNetns, closedPort, AbortSignal.timeout(10_000)), (e: unknown) => e instanceof DialError && e.code === 'ECONNREFUSED');
    for (let i = 0; i < 100 && helperPids().length > 0; i++) await new Promise(r => setTimeout(r, 50));
    assert.equal(helperPids().length, 0, 'the idle helper went');
    dialers.close();
  });

  it('a helper that cannot start fails the dial', async () => {
    const dialers = new NetnsDialers();
    await assert.rejects(dialers.dial('/nonexistent/netns', 80, AbortSignal.timeout(10_000)), DialError);
    dialers.close();
  });
});
