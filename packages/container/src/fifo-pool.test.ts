import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, it } from 'node:test';
import { FifoPool } from './fifo.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crikit-fifo-pool-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

it('FifoPool makes FIFOs (0600) from spares made in one batch, keeps existing files, and clears what an earlier process left', async () => {
  const poolDir = path.join(dir, 'pool');
  fs.mkdirSync(poolDir);
  fs.writeFileSync(path.join(poolDir, 'left-by-a-dead-crikitd'), '');
  const pool = new FifoPool(poolDir, 8);
  const kept = path.join(dir, 'kept');
  fs.writeFileSync(kept, 'x');
  const wanted = ['a', 'b', 'c'].map(n => path.join(dir, n));
  await pool.make([...wanted, kept]);
  for (const p of wanted) {
    const st = fs.statSync(p);
    assert.ok(st.isFIFO(), p);
    assert.equal(st.mode & 0o777, 0o600);
  }
  assert.equal(fs.readFileSync(kept, 'utf8'), 'x');
  assert.equal(fs.readdirSync(poolDir).length, 5, 'eight made, three taken; the stale entry is gone');
  await pool.make(Array.from({ length: 10 }, (_, i) => path.join(dir, `more-${i}`)));
  assert.equal(fs.readdirSync(dir).filter(n => n.startsWith('more-')).length, 10, 'more than the spares: the rest is made directly');
});

it('FifoPool.clear removes the spares at shut-down, and the pool makes FIFOs again afterwards', async () => {
  const poolDir = path.join(dir, 'cleared');
  const pool = new FifoPool(poolDir, 4);
  await pool.make([path.join(dir, 'x1')]);
  assert.ok(fs.readdirSync(poolDir).length > 0, 'spares are waiting');
  await pool.clear();
  assert.equal(fs.existsSync(poolDir), false, 'no spare FIFO is left behind');
  assert.ok(fs.statSync(path.join(dir, 'x1')).isFIFO(), 'a FIFO in use stays');
  await pool.make([path.join(dir, 'x2')]);
  assert.ok(fs.statSync(path.join(dir, 'x2')).isFIFO());
  await pool.clear();
});
