import assert from 'node:assert/strict';
import { writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InternalError } from '@crikit/core';
import { clampOomScoreAdj, readOwnOomScoreAdj } from './oom-score.js';

describe('clampOomScoreAdj', () => {
  it('never goes below the runtime’s own score', () => {
    assert.equal(clampOomScoreAdj(-998, -500), -500);
    assert.equal(clampOomScoreAdj(100, -500), 100);
    assert.equal(clampOomScoreAdj(-999, -999), -999);
  });
  it('stays within the kernel’s range', () => {
    assert.equal(clampOomScoreAdj(5000, 0), 1000);
    assert.equal(clampOomScoreAdj(-5000, -2000), -1000);
  });
});

describe('readOwnOomScoreAdj', () => {
  it('reads this process’s score', async () => {
    const value = await readOwnOomScoreAdj();
    assert.ok(Number.isInteger(value) && value >= -1000 && value <= 1000);
  });
  it('parses a file and refuses garbage', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'oom-'));
    await writeFile(join(dir, 'ok'), '-500\n');
    await writeFile(join(dir, 'bad'), 'x\n');
    assert.equal(await readOwnOomScoreAdj(join(dir, 'ok')), -500);
    await assert.rejects(readOwnOomScoreAdj(join(dir, 'bad')), InternalError);
    await assert.rejects(readOwnOomScoreAdj(join(dir, 'missing')), InternalError);
  });
});
