import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const module = fileURLToPath(new URL('./daemon-heap.js', import.meta.url));

/** Runs a node that calls tuneDaemonHeap, then allocates; returns what it set and its new space in MiB. */
function youngGeneration(nodeFlags: string[], env: NodeJS.ProcessEnv = {}): { set: boolean; newSpaceMiB: number } {
  const program = `
    const { tuneDaemonHeap } = await import(${JSON.stringify(module)});
    const v8 = await import('node:v8');
    const set = tuneDaemonHeap();
    let keep = [];
    for (let i = 0; i < 3e5; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 100000) keep = []; }
    const space = v8.getHeapSpaceStatistics().find(s => s.space_name === 'new_space');
    console.log(JSON.stringify({ set, newSpaceMiB: space.space_size / 2 ** 20 }));`;
  const out = execFileSync(process.execPath, [...nodeFlags, '--input-type=module', '-e', program], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', ...env } });
  return JSON.parse(out) as { set: boolean; newSpaceMiB: number };
}

test('tuneDaemonHeap keeps new space at its initial size under allocation', () => {
  const small = youngGeneration([]);
  assert.equal(small.set, true);
  assert.ok(small.newSpaceMiB <= 4, `new space ${small.newSpaceMiB} MiB`);
});

test('tuneDaemonHeap leaves an operator\'s young-generation flag alone', () => {
  const flagged = youngGeneration(['--max-semi-space-size=8']);
  assert.equal(flagged.set, false);
  assert.ok(flagged.newSpaceMiB > 4, `new space ${flagged.newSpaceMiB} MiB: the operator's 8 MiB semi-spaces may grow`);
  assert.equal(youngGeneration([], { NODE_OPTIONS: '--max-semi-space-size=8' }).set, false);
  assert.equal(youngGeneration(['--heap-growing-percent=100']).set, false);
});
