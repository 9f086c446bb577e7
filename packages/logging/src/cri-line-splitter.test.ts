import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '@crikit/core';
import { CriLineSplitter, type SplitLine } from './cri-line-splitter.js';

/** Entries as `F:content` / `P:content`, for readable assertions. */
const show = (lines: readonly SplitLine[]): string[] => lines.map(l => `${l.partial ? 'P' : 'F'}:${l.content.toString('latin1')}`);

/** Feeds `chunks` then ends; returns every entry. */
function split(maxLineBytes: number, ...chunks: string[]): string[] {
  const s = new CriLineSplitter(maxLineBytes);
  const out = chunks.flatMap(c => show(s.push(Buffer.from(c, 'latin1'))));
  return [...out, ...show(s.end())];
}

/**
 * An independent model of containerd's CRI logger on the whole input: a bufio reader of
 * min(4096, maxLen) bytes hands out segments ending at `\n` (dropping `\n` or `\r\n`), or a full
 * buffer (putting back a trailing `\r`), or what is left at EOF; segments are joined into lines and
 * cut to maxLen; the rest at EOF is written with tag P.
 */
function containerdModel(input: Buffer, maxLen: number): string[] {
  const bufSize = Math.min(4096, maxLen);
  const out: string[] = [];
  let pos = 0;
  let line = Buffer.alloc(0);
  const write = (tag: string, b: Buffer): void => { out.push(`${tag}:${b.toString('latin1')}`); };
  for (;;) {
    const window = input.subarray(pos, pos + bufSize);
    const nl = window.indexOf(0x0a);
    let segment: Buffer; let isPrefix = false; let eof = false;
    if (nl !== -1) {
      pos += nl + 1;
      const drop = nl > 0 && window[nl - 1] === 0x0d ? 2 : 1;
      segment = window.subarray(0, nl + 1 - drop);
    } else if (window.length === bufSize) {
      isPrefix = true;
      const cr = window[bufSize - 1] === 0x0d ? 1 : 0;
      segment = window.subarray(0, bufSize - cr);
      pos += bufSize - cr;
    } else {
      segment = window;
      pos += window.length;
      eof = true;
    }
    line = Buffer.concat([line, segment]);
    if (eof && line.length === 0) break;
    if (line.length > maxLen) {
      write('P', line.subarray(0, maxLen));
      line = line.subarray(maxLen);
    }
    if (isPrefix) continue;
    write(eof ? 'P' : 'F', line);
    line = Buffer.alloc(0);
    if (eof) break;
  }
  return out;
}

describe('CriLineSplitter', () => {
  it('makes one F entry per short line, without the newline', () => {
    assert.deepEqual(split(16, 'hello\nworld\n'), ['F:hello', 'F:world']);
  });
  it('keeps a line of exactly maxLineBytes whole', () => {
    assert.deepEqual(split(4, 'abcd\n'), ['F:abcd']);
    assert.deepEqual(split(4, 'abcd\r\n'), ['F:abcd']);
  });
  it('cuts a longer line into P entries of maxLineBytes and an F remainder', () => {
    assert.deepEqual(split(4, 'abcdefghij\n'), ['P:abcd', 'P:efgh', 'F:ij']);
    assert.deepEqual(split(4, 'abcdefgh\n'), ['P:abcd', 'F:efgh']);
  });
  it('emits P entries as the bytes arrive, before the line ends', () => {
    const s = new CriLineSplitter(4);
    assert.deepEqual(show(s.push(Buffer.from('abcdef'))), ['P:abcd']);
    assert.equal(s.pendingBytes, 2);
    assert.deepEqual(show(s.push(Buffer.from('gh\n'))), ['F:efgh']);
  });
  it('splits many lines in one chunk', () => {
    const lines = Array.from({ length: 1000 }, (_, i) => `line ${i}`);
    assert.deepEqual(split(64, lines.join('\n') + '\n'), lines.map(l => `F:${l}`));
  });
  it('joins a line split across chunks', () => {
    assert.deepEqual(split(16, 'hel', 'lo', '\nwor', 'ld\n'), ['F:hello', 'F:world']);
  });
  it('writes a last line without newline as P at the end (containerd)', () => {
    assert.deepEqual(split(16, 'done\nno newline'), ['F:done', 'P:no newline']);
    assert.deepEqual(split(4, 'abcdefg'), ['P:abcd', 'P:efg']);
  });
  it('writes nothing at the end when the output ended with a newline, or was empty', () => {
    assert.deepEqual(split(16, 'a\n'), ['F:a']);
    assert.deepEqual(split(16), []);
  });
  it('keeps empty lines', () => {
    assert.deepEqual(split(16, '\n\na\n\n'), ['F:', 'F:', 'F:a', 'F:']);
    assert.deepEqual(split(16, '\r\n'), ['F:']);
  });
  it('drops the \\r of a \\r\\n ending, even split across chunks, and keeps other \\r', () => {
    assert.deepEqual(split(16, 'a\r\nb\r', '\nc\rd\n\re\n'), ['F:a', 'F:b', 'F:c\rd', 'F:\re']);
    assert.deepEqual(split(16, 'progress\r'), ['P:progress\r']);
  });
  it('counts a \\r right after maxLineBytes as content unless \\n follows', () => {
    assert.deepEqual(split(4, 'abcd\r', 'x\n'), ['P:abcd', 'F:\rx']);
    assert.deepEqual(split(4, 'abcd\r'), ['P:abcd', 'P:\r']);
  });
  it('matches a model of containerd for any input and any chunking', () => {
    let seed = 42;
    const rand = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
    for (let round = 0; round < 2000; round++) {
      const maxLen = [2, 3, 4, 5, 8, 13][rand(6)]!;
      const input = Buffer.from(Array.from({ length: rand(40) }, () => 'ab\r\n'.charCodeAt(rand(4))));
      const s = new CriLineSplitter(maxLen);
      const got: string[] = [];
      for (let at = 0; at < input.length;) {
        const n = 1 + rand(8);
        got.push(...show(s.push(input.subarray(at, at + n))));
        at += n;
      }
      got.push(...show(s.end()));
      assert.deepEqual(got, containerdModel(input, maxLen), `maxLen ${maxLen}, input ${JSON.stringify(input.toString('latin1'))}`);
    }
  });
  it('matches the model with containerd\'s 4096-byte read buffer below maxLineBytes', () => {
    const input = Buffer.from(`${'x'.repeat(16384)}\r\n${'y'.repeat(40000)}\n${'z'.repeat(16385)}`);
    const s = new CriLineSplitter(16384);
    const got = [...show(s.push(input.subarray(0, 5000))), ...show(s.push(input.subarray(5000))), ...show(s.end())];
    assert.deepEqual(got, containerdModel(input, 16384));
    assert.deepEqual(got.map(g => g.length - 2), [16384, 16384, 16384, 40000 - 32768, 16384, 1]);
  });
  it('refuses a non-positive maximum and pushes after the end', () => {
    assert.throws(() => new CriLineSplitter(0), InvalidArgumentError);
    assert.throws(() => new CriLineSplitter(1.5), InvalidArgumentError);
    const s = new CriLineSplitter(4);
    assert.deepEqual(s.end(), []);
    assert.deepEqual(s.end(), []);
    assert.throws(() => s.push(Buffer.from('x')), InvalidArgumentError);
  });
});
