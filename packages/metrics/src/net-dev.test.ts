import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseNetDev, readNetDev } from './net-dev.js';

const sample = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    1200      12    0    0    0     0          0         0     1200      12    0    0    0     0       0          0
  eth0: 3520512    2484    1    2    0     0          0         0   150021    1201    3    4    0     0       0          0
 net1@if7:      10       1    0    0    0     0          0         0       20       2    0    0    0     0       0          0
`;

test('net/dev: every interface but lo, with rx/tx bytes, packets, errors and drops', () => {
  const parsed = parseNetDev(sample);
  assert.deepEqual(parsed.map(i => i.name), ['eth0', 'net1@if7']);
  assert.deepEqual(parsed[0], {
    name: 'eth0', rxBytes: 3520512n, rxPackets: 2484n, rxErrors: 1n, rxDropped: 2n,
    txBytes: 150021n, txPackets: 1201n, txErrors: 3n, txDropped: 4n,
  });
});

test('net/dev of a process that is gone reads as undefined; of a live one, from <proc>/<pid>/net/dev', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'netdev-'));
  try {
    fs.mkdirSync(path.join(root, '42', 'net'), { recursive: true });
    fs.writeFileSync(path.join(root, '42', 'net', 'dev'), sample);
    assert.equal((await readNetDev(root, 42))?.length, 2);
    assert.equal(await readNetDev(root, 43), undefined);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
