import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger, UnavailableError } from '@crikit/core';
import { CriLogFile } from './cri-log-file.js';

let dir: string;
before(async () => { dir = await fs.mkdtemp(path.join(os.tmpdir(), 'crikit-logfile-')); });
after(async () => { await fs.rm(dir, { recursive: true, force: true }); });

describe('CriLogFile', () => {
  it('writes in call order, even when writes are queued while one is in flight', async () => {
    const file = path.join(dir, 'order', '0.log');
    const log = await CriLogFile.open(file, silentLogger);
    await Promise.all(Array.from({ length: 500 }, (_, i) => log.write(Buffer.from(`${i}\n`))));
    await log.close();
    assert.deepEqual((await fs.readFile(file, 'utf8')).trim().split('\n'), Array.from({ length: 500 }, (_, i) => String(i)));
  });

  it('writes what was queued before reopen to the old file', async () => {
    const file = path.join(dir, 'rotate', '0.log');
    const log = await CriLogFile.open(file, silentLogger);
    void log.write(Buffer.from('old\n'));
    await fs.rename(file, `${file}.1`);
    const reopening = log.reopen();
    void log.write(Buffer.from('new\n'));
    await reopening;
    await log.close();
    assert.equal(await fs.readFile(`${file}.1`, 'utf8'), 'old\n');
    assert.equal(await fs.readFile(file, 'utf8'), 'new\n');
  });

  it('keeps writing to the old file when the new one cannot be opened', async () => {
    const logDir = path.join(dir, 'broken');
    const file = path.join(logDir, '0.log');
    const log = await CriLogFile.open(file, silentLogger);
    await fs.rename(logDir, `${logDir}.moved`);
    await fs.writeFile(logDir, 'a file where the directory was');
    await assert.rejects(log.reopen(), UnavailableError);
    await log.write(Buffer.from('still here\n'));
    await log.close();
    assert.equal(await fs.readFile(path.join(`${logDir}.moved`, '0.log'), 'utf8'), 'still here\n');
  });

  it('drops writes after close; close is idempotent; reopen after close fails', async () => {
    const file = path.join(dir, 'closed', '0.log');
    const log = await CriLogFile.open(file, silentLogger);
    await log.write(Buffer.from('kept\n'));
    await log.close();
    await log.close();
    await log.write(Buffer.from('dropped\n'));
    await assert.rejects(log.reopen(), UnavailableError);
    assert.equal(await fs.readFile(file, 'utf8'), 'kept\n');
  });

  it('refuses a path it cannot create', async () => {
    const blocker = path.join(dir, 'blocker');
    await fs.writeFile(blocker, '');
    await assert.rejects(CriLogFile.open(path.join(blocker, 'sub', '0.log'), silentLogger), UnavailableError);
  });

  it('refuses a log path that is a symlink (opening, and reopening after rotation), writing nothing through it', async () => {
    const victim = path.join(dir, 'victim');
    await fs.writeFile(victim, 'host file\n');
    const file = path.join(dir, 'link', '0.log');
    await fs.mkdir(path.dirname(file));
    await fs.symlink(victim, file);
    await assert.rejects(CriLogFile.open(file, silentLogger), (e: Error) => e instanceof UnavailableError && e.message.includes(file));
    const rotated = path.join(dir, 'link', '1.log');
    const log = await CriLogFile.open(rotated, silentLogger);
    await fs.rename(rotated, `${rotated}.1`);
    await fs.symlink(victim, rotated);
    await assert.rejects(log.reopen(), UnavailableError);
    await log.write(Buffer.from('line\n'));
    await log.close();
    assert.equal(await fs.readFile(victim, 'utf8'), 'host file\n');
  });
});
