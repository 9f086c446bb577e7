import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Container } from 'inversify';
import {
  AlreadyExistsError, ContainerLogWriter, InvalidArgumentError, LogSink, Logger, NotFoundError, silentLogger,
  type ContainerId, type ContainerLogTarget, type SandboxId,
} from '@crikit/core';
import { FakeLogSink } from '@crikit/core/testing';
import { CriFileLogWriter } from './cri-file-log-writer.js';
import { parseCriLog } from './cri-log-format.js';
import { LoggingConfig, loggingConfigSchema } from './logging-config.js';
import { loggingModule } from './logging-module.js';
import { NoopLogSink } from './noop-log-sink.js';

const never = new AbortController().signal;
let dir: string;
before(async () => { dir = await fs.mkdtemp(path.join(os.tmpdir(), 'crikit-logwriter-')); });
after(async () => { await fs.rm(dir, { recursive: true, force: true }); });

let n = 0;
function target(overrides: Partial<ContainerLogTarget> = {}): ContainerLogTarget {
  n++;
  return {
    containerId: `c${n}` as ContainerId, sandboxId: 's1' as SandboxId,
    logPath: path.join(dir, `pod${n}`, 'app', '0.log'), tty: false, ...overrides,
  };
}

/** A Logger that keeps what was logged at warn and error. */
class RecordingLogger implements Logger {
  readonly lines: { level: string; msg: string | undefined }[] = [];
  trace(): void {}
  debug(): void {}
  info(): void {}
  warn(_obj: object, msg?: string): void { this.lines.push({ level: 'warn', msg }); }
  error(_obj: object, msg?: string): void { this.lines.push({ level: 'error', msg }); }
  child(): Logger { return this; }
}

const writerWith = (maxLineBytes = 16384, sink: LogSink = new NoopLogSink(), log: Logger = silentLogger): CriFileLogWriter =>
  new CriFileLogWriter(loggingConfigSchema.parse({ maxLineBytes }), sink, log);

const readLog = async (file: string): Promise<ReturnType<typeof parseCriLog>> => parseCriLog(await fs.readFile(file));
const show = (lines: ReturnType<typeof parseCriLog>): string[] => lines.map(l => `${l.stream} ${l.partial ? 'P' : 'F'} ${l.content}`);

describe('CriFileLogWriter', () => {
  it('writes both streams into one CRI log file, creating its directory with mode 0640', async () => {
    const writer = writerWith();
    const t = target();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    await writer.attach(t, { stdout, stderr }, never);
    stdout.end('out 1\nout 2\n');
    stderr.end('err 1\n');
    await writer.close(t.containerId, never);
    const lines = await readLog(t.logPath);
    assert.deepEqual(show(lines.filter(l => l.stream === 'stdout')), ['stdout F out 1', 'stdout F out 2']);
    assert.deepEqual(show(lines.filter(l => l.stream === 'stderr')), ['stderr F err 1']);
    assert.equal((await fs.stat(t.logPath)).mode & 0o777, 0o640 & ~process.umask());
    const text = await fs.readFile(t.logPath, 'utf8');
    assert.match(text.split('\n')[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z std(out|err) F /);
  });

  it('interleaves 10k lines from each stream without losing or merging any', async () => {
    const writer = writerWith();
    const t = target();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    await writer.attach(t, { stdout, stderr }, never);
    const feed = async (s: PassThrough, name: string): Promise<void> => {
      for (let i = 0; i < 10_000; i++) {
        // Uneven chunks, so lines also arrive cut in two.
        const line = `${name} line ${i} ${'x'.repeat(i % 50)}\n`;
        const cut = i % 3 === 0 ? line.length >> 1 : line.length;
        if (!s.write(line.slice(0, cut))) await new Promise(r => s.once('drain', r));
        if (cut < line.length) s.write(line.slice(cut));
        if (i % 500 === 0) await new Promise(r => setImmediate(r));
      }
      s.end();
    };
    await Promise.all([feed(stdout, 'out'), feed(stderr, 'err')]);
    await writer.close(t.containerId, never);
    const lines = await readLog(t.logPath);
    assert.equal(lines.length, 20_000);
    for (const [stream, name] of [['stdout', 'out'], ['stderr', 'err']] as const) {
      const mine = lines.filter(l => l.stream === stream).map(l => l.content.toString());
      assert.deepEqual(mine, Array.from({ length: 10_000 }, (_, i) => `${name} line ${i} ${'x'.repeat(i % 50)}`));
    }
    // Both streams made progress concurrently: the file is not all stdout then all stderr.
    const firstErr = lines.findIndex(l => l.stream === 'stderr');
    assert.ok(firstErr < 10_000, `first stderr line at ${firstErr}`);
  });

  it('logs everything as stdout with a TTY', async () => {
    const writer = writerWith();
    const t = target({ tty: true });
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    await writer.attach(t, { stdout, stderr }, never);
    stdout.end('a\n');
    stderr.end('b\n');
    await writer.close(t.containerId, never);
    assert.deepEqual(show(await readLog(t.logPath)).sort(), ['stdout F a', 'stdout F b']);
  });

  it('cuts long lines into P entries and ends an unterminated last line with P', async () => {
    const writer = writerWith(4);
    const t = target();
    const stdout = new PassThrough();
    await writer.attach(t, { stdout }, never);
    stdout.end('abcdefghij\r\ntail');
    await writer.close(t.containerId, never);
    assert.deepEqual(show(await readLog(t.logPath)), ['stdout P abcd', 'stdout P efgh', 'stdout F ij', 'stdout P tail']);
  });

  it('appends to an existing file', async () => {
    const t = target();
    await fs.mkdir(path.dirname(t.logPath), { recursive: true });
    await fs.writeFile(t.logPath, '2016-10-06T00:17:09Z stdout F before\n');
    const writer = writerWith();
    const stdout = new PassThrough();
    await writer.attach(t, { stdout }, never);
    stdout.end('after\n');
    await writer.close(t.containerId, never);
    assert.deepEqual(show(await readLog(t.logPath)), ['stdout F before', 'stdout F after']);
  });

  it('reopens after the kubelet renamed the file: earlier lines in the old file, later in the new', async () => {
    const writer = writerWith();
    const t = target();
    const stdout = new PassThrough();
    await writer.attach(t, { stdout }, never);
    stdout.write('one\n');
    stdout.write('two\n');
    await new Promise(r => setTimeout(r, 50));
    const rotated = `${t.logPath}.20240101-000000`;
    await fs.rename(t.logPath, rotated);
    await writer.reopen(t.containerId, never);
    await writer.reopen(t.containerId, never); // idempotent: just opens again
    stdout.end('three\n');
    await writer.close(t.containerId, never);
    assert.deepEqual(show(await readLog(rotated)), ['stdout F one', 'stdout F two']);
    assert.deepEqual(show(await readLog(t.logPath)), ['stdout F three']);
  });

  it('close waits for both streams to end and their last lines to be written', async () => {
    const writer = writerWith();
    const t = target();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    await writer.attach(t, { stdout, stderr }, never);
    let closed = false;
    const closing = writer.close(t.containerId, never).then(() => { closed = true; });
    stdout.end('last out\n');
    await new Promise(r => setTimeout(r, 50));
    assert.equal(closed, false, 'stderr still open');
    stderr.end('last err');
    await closing;
    assert.deepEqual(show(await readLog(t.logPath)).sort(), ['stderr P last err', 'stdout F last out']);
    await writer.close(t.containerId, never); // idempotent
    await writer.close('never-attached' as ContainerId, never);
  });

  it('close stops waiting when its signal fires, and destroys the streams', async () => {
    const writer = writerWith();
    const t = target();
    const stdout = new PassThrough();
    await writer.attach(t, { stdout }, never);
    stdout.write('kept\n');
    await new Promise(r => setTimeout(r, 20));
    // Not AbortSignal.timeout: its timer does not keep the event loop alive.
    const giveUp = new AbortController();
    setTimeout(() => giveUp.abort(), 50);
    await writer.close(t.containerId, giveUp.signal);
    assert.equal(stdout.destroyed, true);
    assert.deepEqual(show(await readLog(t.logPath)), ['stdout F kept']);
    // The container can be attached again once closed.
    await writer.attach(t, {}, never);
    await writer.close(t.containerId, never);
  });

  it('keeps draining the output when writes fail (disk full), logging once', async () => {
    const log = new RecordingLogger();
    const writer = writerWith(16384, new NoopLogSink(), log);
    const t = target({ logPath: '/dev/full' });
    const stdout = new PassThrough();
    await writer.attach(t, { stdout }, never);
    for (let i = 0; i < 200; i++) {
      if (!stdout.write(`${'y'.repeat(1000)} ${i}\n`)) await new Promise(r => stdout.once('drain', r));
      await new Promise(r => setImmediate(r));
    }
    stdout.end();
    await writer.close(t.containerId, never);
    assert.equal(stdout.readableEnded, true, 'everything was read');
    assert.equal(log.lines.filter(l => l.level === 'error').length, 1);
  });

  it('refuses a second attach, a relative path, and reopen without attach', async () => {
    const writer = writerWith();
    const t = target();
    await assert.rejects(writer.attach({ ...t, logPath: 'relative/0.log' }, {}, never), InvalidArgumentError);
    const attaching = writer.attach(t, {}, never);
    await assert.rejects(writer.attach(t, {}, never), AlreadyExistsError);
    await attaching;
    await assert.rejects(writer.attach(t, {}, never), AlreadyExistsError);
    await writer.close(t.containerId, never);
    await assert.rejects(writer.reopen(t.containerId, never), NotFoundError);
  });

  it('hands every entry to the LogSink bound in the container', async () => {
    const container = new Container();
    container.bind(Logger).toConstantValue(silentLogger);
    container.bind(LoggingConfig).toConstantValue(loggingConfigSchema.parse({ maxLineBytes: 4 }));
    container.load(loggingModule);
    const sink = new FakeLogSink();
    container.rebind(LogSink).toConstantValue(sink);
    const writer = container.get<ContainerLogWriter>(ContainerLogWriter);
    const t = target();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    await writer.attach(t, { stdout, stderr }, never);
    stdout.end('hello world\n');
    stderr.end('oops\n');
    await writer.close(t.containerId, never);
    const got = sink.entries.map(e => `${e.containerId} ${e.sandboxId} ${e.stream} ${e.partial ? 'P' : 'F'} ${e.content}`);
    assert.deepEqual(got.sort(), [
      `${t.containerId} s1 stderr F oops`,
      `${t.containerId} s1 stdout F rld`,
      `${t.containerId} s1 stdout P hell`,
      `${t.containerId} s1 stdout P o wo`,
    ]);
    const file = await readLog(t.logPath);
    assert.deepEqual(file.map(l => l.timestampNs).sort(), sink.entries.map(e => e.timestampNs).sort());
  });
});
