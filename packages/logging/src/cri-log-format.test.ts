import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '@crikit/core';
import {
  formatCriLogLine, formatCriLogLines, formatRfc3339Nano, parseCriLog, parseCriLogLine, parseRfc3339Nano, wallClockNs,
} from './cri-log-format.js';

const T = 1475713029n * 1_000_000_000n; // 2016-10-06T00:17:09Z

describe('formatRfc3339Nano', () => {
  it('writes nine digits when the last one is not zero', () => {
    assert.equal(formatRfc3339Nano(T + 669794202n), '2016-10-06T00:17:09.669794202Z');
  });
  it('trims trailing zeros of the fraction, as Go does', () => {
    assert.equal(formatRfc3339Nano(T + 669794200n), '2016-10-06T00:17:09.6697942Z');
    assert.equal(formatRfc3339Nano(T + 500_000_000n), '2016-10-06T00:17:09.5Z');
    assert.equal(formatRfc3339Nano(T + 1n), '2016-10-06T00:17:09.000000001Z');
  });
  it('leaves out a zero fraction with its dot', () => {
    assert.equal(formatRfc3339Nano(T), '2016-10-06T00:17:09Z');
    assert.equal(formatRfc3339Nano(0n), '1970-01-01T00:00:00Z');
  });
  it('keeps the fraction positive before the epoch', () => {
    assert.equal(formatRfc3339Nano(-1n), '1969-12-31T23:59:59.999999999Z');
  });
});

describe('parseRfc3339Nano', () => {
  it('round-trips what formatRfc3339Nano writes', () => {
    for (const ns of [T, T + 1n, T + 669794202n, T + 669794200n, T + 500_000_000n, 0n]) {
      assert.equal(parseRfc3339Nano(formatRfc3339Nano(ns)), ns);
    }
  });
  it('applies a UTC offset (containerd stamps in the local zone)', () => {
    assert.equal(parseRfc3339Nano('2016-10-06T02:17:09.5+02:00'), T + 500_000_000n);
    assert.equal(parseRfc3339Nano('2016-10-05T23:17:09-01:00'), T);
  });
  it('refuses what Go would refuse', () => {
    for (const bad of ['2016-10-06 00:17:09Z', '2016-10-06T00:17:09', '2016-02-30T00:00:00Z', '2016-10-06T24:00:00Z',
      '2016-10-06T00:17:09.1234567891Z', '2016-10-06T00:17:09.Z', '']) {
      assert.throws(() => parseRfc3339Nano(bad), InvalidArgumentError, bad);
    }
  });
});

describe('formatCriLogLine', () => {
  it('writes the containerd format', () => {
    const line = formatCriLogLine({ timestampNs: T + 669794202n, stream: 'stdout', partial: false, content: Buffer.from('text') });
    assert.equal(line.toString(), '2016-10-06T00:17:09.669794202Z stdout F text\n');
  });
  it('tags partial lines P and names stderr', () => {
    const line = formatCriLogLine({ timestampNs: T, stream: 'stderr', partial: true, content: Buffer.from('abc') });
    assert.equal(line.toString(), '2016-10-06T00:17:09Z stderr P abc\n');
  });
  it('writes an empty line with the space before the content', () => {
    const line = formatCriLogLine({ timestampNs: T, stream: 'stdout', partial: false, content: Buffer.alloc(0) });
    assert.equal(line.toString(), '2016-10-06T00:17:09Z stdout F \n');
  });
  it('copies content bytes as they are (not UTF-8 re-encoded)', () => {
    const content = Buffer.from([0xff, 0x00, 0xe2, 0x82, 0xac, 0x0d]);
    const line = formatCriLogLine({ timestampNs: T, stream: 'stdout', partial: false, content });
    assert.deepEqual(line.subarray(line.length - 7, line.length - 1), content);
  });
  it('formats many lines into one buffer', () => {
    const lines = formatCriLogLines([
      { timestampNs: T, stream: 'stdout', partial: true, content: Buffer.from('ab') },
      { timestampNs: T + 1n, stream: 'stdout', partial: false, content: Buffer.from('c') },
    ]);
    assert.equal(lines.toString(), '2016-10-06T00:17:09Z stdout P ab\n2016-10-06T00:17:09.000000001Z stdout F c\n');
  });
});

describe('parseCriLogLine', () => {
  it('round-trips a formatted line', () => {
    const entry = { timestampNs: T + 669794200n, stream: 'stderr' as const, partial: true, content: Buffer.from('a b  c\r') };
    const parsed = parseCriLogLine(formatCriLogLine(entry));
    assert.equal(parsed.timestamp, '2016-10-06T00:17:09.6697942Z');
    assert.equal(parsed.timestampNs, entry.timestampNs);
    assert.equal(parsed.stream, 'stderr');
    assert.equal(parsed.partial, true);
    assert.deepEqual(parsed.content, entry.content);
  });
  it('reads the first of several tags, as the kubelet does', () => {
    assert.equal(parseCriLogLine('2016-10-06T00:17:09Z stdout F:x hi').partial, false);
    assert.equal(parseCriLogLine('2016-10-06T00:17:09Z stdout P:x hi').partial, true);
  });
  it('refuses malformed lines', () => {
    for (const bad of ['', 'nospace', '2016-10-06T00:17:09Z stdout', '2016-10-06T00:17:09Z stdin F x',
      '2016-10-06T00:17:09Z stdout X x', 'yesterday stdout F x']) {
      assert.throws(() => parseCriLogLine(bad), InvalidArgumentError, bad);
    }
  });
});

describe('parseCriLog', () => {
  it('parses every line of a file, including an unterminated last line', () => {
    const text = '2016-10-06T00:17:09Z stdout F one\n2016-10-06T00:17:09Z stderr F \n2016-10-06T00:17:09Z stdout P par';
    assert.deepEqual(parseCriLog(text).map(l => [l.stream, l.partial, l.content.toString()]),
      [['stdout', false, 'one'], ['stderr', false, ''], ['stdout', true, 'par']]);
  });
  it('names the malformed line', () => {
    assert.throws(() => parseCriLog('2016-10-06T00:17:09Z stdout F one\nbad\n'), /line 2/);
  });
});

describe('wallClockNs', () => {
  it('follows Date.now and never goes backwards between calls', () => {
    const before = BigInt(Date.now()) * 1_000_000n;
    let last = wallClockNs();
    for (let i = 0; i < 1000; i++) {
      const now = wallClockNs();
      assert.ok(now >= last);
      last = now;
    }
    const after = BigInt(Date.now() + 1) * 1_000_000n;
    assert.ok(last >= before - 10_000_000n && last <= after + 10_000_000n);
  });
});
