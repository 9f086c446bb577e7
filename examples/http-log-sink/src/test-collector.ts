/** A loopback HTTP collector for the tests: keeps every JSON line POSTed to it, and can hold its answers. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ShippedLine } from './http-log-sink.js';

/** A collector listening on 127.0.0.1. */
export interface TestCollector {
  readonly url: string;
  /** Every line received, in order of arrival. */
  readonly lines: ShippedLine[];
  /** How many POSTs arrived. */
  readonly requests: () => number;
  /** From now on, answers wait until `release` (the collector is slow). */
  hold(): void;
  /** Answers every held request and stops holding. */
  release(): void;
  /** The status code to answer with (200 by default). */
  answerWith(code: number): void;
  close(): Promise<void>;
}

/** Starts a collector on a free port of 127.0.0.1. */
export async function startCollector(): Promise<TestCollector> {
  const lines: ShippedLine[] = [];
  let requests = 0;
  let holding = false;
  let code = 200;
  const held: (() => void)[] = [];
  const server = http.createServer((req, res) => {
    requests++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = () => {
        if (code === 200) {
          for (const l of Buffer.concat(chunks).toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as ShippedLine);
        }
        res.writeHead(code).end();
      };
      if (holding) held.push(answer);
      else answer();
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/logs`, lines, requests: () => requests,
    hold: () => { holding = true; },
    release: () => { holding = false; for (const a of held.splice(0)) a(); },
    answerWith: c => { code = c; },
    close: () => new Promise(resolve => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
