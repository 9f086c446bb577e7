import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { cgroupDir, PodCgroupReader } from './pod-cgroup-reader.js';

function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cgroups-'));
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
  return root;
}

test('cgroup v1: the pod parent\'s cpuacct and memory files make the sample', async () => {
  const pod = 'kubepods/burstable/pod1';
  const root = tree({
    [`cpuacct/${pod}/cpuacct.usage`]: '5000000000\n',
    [`memory/${pod}/memory.usage_in_bytes`]: '104857600\n',
    [`memory/${pod}/memory.limit_in_bytes`]: '9223372036854771712\n',
    [`memory/${pod}/memory.stat`]: 'cache 1\nrss 2\ntotal_cache 4194304\ntotal_rss 73400320\ntotal_inactive_file 4194304\ntotal_pgfault 900\ntotal_pgmajfault 9\n',
  });
  try {
    const s = (await new PodCgroupReader({ cgroupRoot: root, procRoot: '/proc' }).read(`/${pod}`))!;
    assert.equal(s.cpu!.usageNs, 5_000_000_000n);
    assert.equal(s.memory!.usageBytes, 100n << 20n);
    assert.equal(s.memory!.workingSetBytes, 96n << 20n);
    assert.equal(s.memory!.limitBytes, undefined);
    assert.equal(s.memory!.rssBytes, 70n << 20n, 'hierarchical total_rss, not the cgroup\'s own rss');
    assert.equal(s.memory!.pageFaults, 900n);
    assert.equal(await new PodCgroupReader({ cgroupRoot: root, procRoot: '/proc' }).read('/kubepods/gone'), undefined);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('cgroup v2 (cgroup.controllers at the root): the unified files, usec as ns, memory.max as the limit', async () => {
  const pod = 'kubepods.slice/kubepods-pod2.slice';
  const root = tree({
    'cgroup.controllers': 'cpu memory pids\n',
    [`${pod}/cpu.stat`]: 'usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n',
    [`${pod}/memory.current`]: '52428800\n',
    [`${pod}/memory.max`]: '268435456\n',
    [`${pod}/memory.stat`]: 'anon 41943040\nfile 10485760\ninactive_file 2097152\npgfault 100\npgmajfault 1\n',
  });
  try {
    const s = (await new PodCgroupReader({ cgroupRoot: root, procRoot: '/proc' }).read('kubepods-pod2.slice'))!;
    assert.equal(s.cpu!.usageNs, 2_500_000_000n);
    assert.equal(s.memory!.workingSetBytes, 48n << 20n);
    assert.equal(s.memory!.limitBytes, 256n << 20n);
    assert.equal(s.memory!.rssBytes, 40n << 20n);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a systemd slice parent expands to its nesting; a path stays a path', () => {
  assert.equal(cgroupDir('kubepods-burstable-pod1.slice'), 'kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice');
  assert.equal(cgroupDir('/kubepods/besteffort/pod9'), 'kubepods/besteffort/pod9');
});
