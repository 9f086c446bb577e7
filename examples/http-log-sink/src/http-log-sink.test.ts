// HttpLogSink behind crikit's own CRI log writer, resolved from a runtime built with createRuntime,
// and alone against a slow or failing collector.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, test } from 'node:test';
import { ContainerLogWriter, LogSink, type ContainerId, type LogEntry, type SandboxId } from '@crikit/core';
import { createRuntime } from '@crikit/server';
import { HttpLogSink } from './http-log-sink.js';
import { startCollector } from './test-collector.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crikit-example-logsink-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const deadline = () => AbortSignal.timeout(10_000);

function entry(i: number): LogEntry {
  return {
    containerId: 'c1' as ContainerId, sandboxId: 's1' as SandboxId, stream: 'stdout',
    timestampNs: 1_700_000_000_000_000_000n + BigInt(i), partial: false, content: Buffer.from(`line ${i}`),
  };
}

async function fileHolds(file: string, text: string): Promise<void> {
  while (!(fs.existsSync(file) && fs.readFileSync(file, 'utf8').includes(text))) await new Promise(resolve => setTimeout(resolve, 5));
}

test('container output written by the runtime\'s log writer reaches the collector as JSON lines', async t => {
  const collector = await startCollector();
  t.after(() => collector.close());
  const sink = new HttpLogSink({ url: collector.url });
  // The runtime is composed but not started: the log writer needs no containerd.
  const runtime = createRuntime({
    config: { paths: { rootDir: path.join(dir, 'root'), stateDir: path.join(dir, 'state') }, logging: { maxLineBytes: 8 } },
  });
  runtime.container.rebind(LogSink).toConstantValue(sink);
  const writer = runtime.container.get<ContainerLogWriter>(ContainerLogWriter);

  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const logPath = path.join(dir, 'pod', 'web', '0.log');
  const id = 'c-web' as ContainerId;
  await writer.attach({ containerId: id, sandboxId: 's-pod' as SandboxId, logPath, tty: false }, { stdout, stderr }, deadline());
  // Each line is in the file before the next is written, so the order across streams is known.
  stdout.write('hello\n');
  await fileHolds(logPath, 'hello');
  stderr.write('oops\n');
  await fileHolds(logPath, 'oops');
  stdout.end('0123456789ab\n'); // longer than maxLineBytes: a P chunk, then the F rest
  stderr.end();
  await writer.close(id, deadline());
  await sink.idle();

  assert.deepEqual(collector.lines.map(l => [l.containerId, l.sandboxId, l.stream, l.partial, l.log]), [
    ['c-web', 's-pod', 'stdout', false, 'hello'],
    ['c-web', 's-pod', 'stderr', false, 'oops'],
    ['c-web', 's-pod', 'stdout', true, '01234567'],
    ['c-web', 's-pod', 'stdout', false, '89ab'],
  ]);
  for (const l of collector.lines) assert.match(l.timeNs, /^\d{19}$/);
  // The CRI log file still gets the same lines: the sink is an extra destination.
  const file = fs.readFileSync(logPath, 'utf8').trim().split('\n').map(l => l.split(' ').slice(1).join(' '));
  assert.deepEqual(file, ['stdout F hello', 'stderr F oops', 'stdout P 01234567', 'stdout F 89ab']);
  assert.deepEqual(sink.stats(), { written: 4, sent: 4, dropped: 0, failed: 0 });
});

test('a slow collector: lines beyond the queue are dropped and counted, the rest arrive in order', async t => {
  const collector = await startCollector();
  t.after(() => collector.close());
  const sink = new HttpLogSink({ url: collector.url, maxQueuedLines: 10, maxBatchLines: 10 });
  collector.hold();
  // 100 lines at once: 10 fit in the queue, 90 are dropped; the 10 go out in one POST, which the collector holds.
  for (let i = 0; i < 100; i++) sink.write(entry(i));
  assert.equal(sink.stats().dropped, 90);
  while (collector.requests() === 0) await new Promise(resolve => setTimeout(resolve, 5));
  // While that POST hangs, 10 more lines queue and 10 more are dropped; write() returned at once each time.
  for (let i = 100; i < 120; i++) sink.write(entry(i));
  assert.equal(sink.queued, 10);
  assert.deepEqual(sink.stats(), { written: 120, sent: 0, dropped: 100, failed: 0 });

  collector.release();
  await sink.idle();
  assert.deepEqual(sink.stats(), { written: 120, sent: 20, dropped: 100, failed: 0 });
  const expected = [...Array(10).keys(), ...Array.from({ length: 10 }, (_, i) => 100 + i)].map(i => `line ${i}`);
  assert.deepEqual(collector.lines.map(l => l.log), expected);
});

test('a collector that fails or is gone: the batch is counted as failed and write never throws', async t => {
  const collector = await startCollector();
  const sink = new HttpLogSink({ url: collector.url });
  collector.answerWith(503);
  for (let i = 0; i < 3; i++) sink.write(entry(i));
  await sink.idle();
  assert.deepEqual(sink.stats(), { written: 3, sent: 0, dropped: 0, failed: 3 });

  collector.answerWith(200);
  await collector.close();
  t.diagnostic('collector closed: the next POST meets a refused connection');
  for (let i = 3; i < 8; i++) sink.write(entry(i));
  await sink.idle();
  assert.deepEqual(sink.stats(), { written: 8, sent: 0, dropped: 0, failed: 8 });
  assert.equal(collector.lines.length, 0);
});
