// The doctor's checks against fake /proc and /sys trees and fake binaries (shell scripts) in a temp dir.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { defaultDoctorOptions, readDoctorOptions, type DoctorOptions } from './doctor-options.js';
import { doctorExitCode, formatDoctor, runDoctor } from './doctor.js';
import { Host, type CheckResult } from './host.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ck-doctor-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let n = 0;

/** Writes `files` (path -> content; a leading `#!` makes it executable) under a fresh dir and returns it. */
function tree(files: Record<string, string>): string {
  const root = path.join(tmp, `t${n++}`);
  for (const [file, content] of Object.entries(files)) {
    const p = path.join(root, file);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content, { mode: content.startsWith('#!') ? 0o755 : 0o644 });
  }
  fs.mkdirSync(root, { recursive: true });
  return root;
}

const fullCaps = '000001ffffffffff';      // 41 capabilities, bits 0..40
const noSysResource = '000001fffeffffff';  // bit 24 cleared
const noSysAdmin = '000001ffffdfffff';     // bit 21 cleared
const v1Cgroups = ['#subsys_name\thierarchy\tnum_cgroups\tenabled',
  ...['cpuset', 'cpu', 'cpuacct', 'blkio', 'memory', 'devices', 'freezer', 'pids'].map((c, i) => `${c}\t${i + 1}\t10\t1`)].join('\n');

function kernel(overrides: Record<string, string | null> = {}): string {
  const files: Record<string, string | null> = {
    'proc/self/status': `Name:\tcrikit\nCapBnd:\t${fullCaps}\nSeccomp:\t0\n`,
    'proc/sys/kernel/cap_last_cap': '40\n',
    'proc/sys/kernel/osrelease': '6.1.0-13-amd64\n',
    'proc/sys/kernel/seccomp/actions_avail': 'kill_process kill_thread trap errno user_notif trace log allow\n',
    'proc/sys/user/max_user_namespaces': '63541\n',
    'sys/fs/cgroup/cgroup.controllers': 'cpuset cpu io memory hugetlb pids rdma misc\n',
    'sys/module/apparmor/parameters/enabled': 'Y\n',
    ...overrides,
  };
  return tree(Object.fromEntries(Object.entries(files).filter((e): e is [string, string] => e[1] !== null)));
}

const script = (out: string, code = 0): string => `#!/bin/sh\necho '${out}'\nexit ${code}\n`;
const bins = (files: Record<string, string>): string => tree(files);
const goodBins = (): string => bins({
  containerd: script('containerd github.com/containerd/containerd v1.7.13 7c3aca7a610df76212171d200ca3811ff6096eb8'),
  runc: script('{"linux":{"seccomp":{"enabled":true}}}'),
  crun: script('crun version 1.8.1'),
});
const cniDir = (plugins = ['bridge', 'host-local', 'loopback', 'portmap']): string =>
  tree(Object.fromEntries(plugins.map(p => [p, '#!/bin/sh\n'])));
const confDir = (): string => tree({ '10-bridge.conflist': '{}' });

function doctor(root: string, binDir: string, options: Partial<DoctorOptions> = {}): Map<string, CheckResult> {
  const opts = { ...defaultDoctorOptions, cniBinDirs: [cniDir()], cniConfDir: confDir(), ...options };
  return new Map(runDoctor(new Host(root, [binDir]), opts).map(r => [r.name, r]));
}

describe('crikit doctor', () => {
  it('passes every check on a complete cgroup v2 host', () => {
    const results = doctor(kernel(), goodBins());
    for (const r of results.values()) assert.equal(r.status, 'ok', `${r.name}: ${r.detail}`);
    assert.match(results.get('containerd')!.detail, /v1\.7\.13/);
    assert.match(results.get('runtime runc')!.detail, /seccomp built in/);
    assert.match(results.get('cgroups')!.detail, /^v2/);
    assert.equal(doctorExitCode([...results.values()]), 0);
  });

  it('names a missing CAP_SYS_RESOURCE and AppArmor as optional gaps with their fixes', () => {
    const root = kernel({ 'proc/self/status': `CapBnd:\t${noSysResource}\nSeccomp:\t0\n`, 'sys/module/apparmor/parameters/enabled': null });
    const results = doctor(root, goodBins());
    const caps = results.get('capabilities')!;
    assert.deepEqual([caps.status, caps.required, caps.detail], ['missing', false, 'bounding set lacks CAP_SYS_RESOURCE']);
    assert.match(caps.fix!, /runtimes\.restrictOomScoreAdj = true/);
    const apparmor = results.get('apparmor')!;
    assert.deepEqual([apparmor.status, apparmor.required], ['missing', false]);
    assert.match(apparmor.fix!, /apt-get install apparmor/);
    assert.equal(doctorExitCode([...results.values()]), 0);
    const text = formatDoctor([...results.values()]);
    assert.match(text, /^missing {2}capabilities +bounding set lacks CAP_SYS_RESOURCE$/m);
    assert.match(text, /^ +fix: apt-get install apparmor/m);
  });

  it('says restrictOomScoreAdj is already set when the config sets it', () => {
    const root = kernel({ 'proc/self/status': `CapBnd:\t${noSysResource}\n` });
    assert.match(doctor(root, goodBins(), { restrictOomScoreAdj: true }).get('capabilities')!.fix!, /already true/);
  });

  it('fails when a capability crikitd cannot work without is missing', () => {
    const results = doctor(kernel({ 'proc/self/status': `CapBnd:\t${noSysAdmin}\n` }), goodBins());
    assert.deepEqual([results.get('capabilities')!.required, results.get('capabilities')!.detail], [true, 'bounding set lacks CAP_SYS_ADMIN']);
    assert.equal(doctorExitCode([...results.values()]), 1);
  });

  it('tells cgroup v1, hybrid and a disabled controller apart', () => {
    const v1 = doctor(kernel({ 'sys/fs/cgroup/cgroup.controllers': null, 'proc/cgroups': v1Cgroups }), goodBins()).get('cgroups')!;
    assert.equal(v1.status, 'ok');
    assert.match(v1.detail, /^v1; controllers/);
    const hybrid = doctor(kernel({ 'sys/fs/cgroup/cgroup.controllers': null, 'proc/cgroups': v1Cgroups, 'sys/fs/cgroup/unified/cgroup.controllers': '' }), goodBins());
    assert.match(hybrid.get('cgroups')!.detail, /^v1 \(hybrid/);
    const noMemory = doctor(kernel({ 'sys/fs/cgroup/cgroup.controllers': null, 'proc/cgroups': v1Cgroups.replace('memory\t5\t10\t1', 'memory\t0\t10\t0') }), goodBins());
    const r = noMemory.get('cgroups')!;
    assert.deepEqual([r.status, r.required], ['missing', true]);
    assert.match(r.detail, /controllers missing: memory$/);
    assert.match(r.fix!, /cgroup_enable=memory/);
    const v2NoIo = doctor(kernel({ 'sys/fs/cgroup/cgroup.controllers': 'cpuset cpu memory pids\n' }), goodBins()).get('cgroups')!;
    assert.match(v2NoIo.detail, /^v2; controllers missing: io$/);
  });

  it('names the controllers on a hybrid host\'s cgroup2 mount, which crun refuses, and how to move them to v1', () => {
    const hybrid = (held: string) => doctor(kernel({ 'sys/fs/cgroup/cgroup.controllers': null, 'proc/cgroups': v1Cgroups, 'sys/fs/cgroup/unified/cgroup.controllers': held }), goodBins());
    const empty = hybrid('').get('cgroup2 controllers (hybrid)')!;
    assert.deepEqual([empty.status, empty.required], ['ok', false]);
    const held = hybrid('hugetlb\n');
    const r = held.get('cgroup2 controllers (hybrid)')!;
    assert.deepEqual([r.status, r.required], ['missing', false]);
    assert.match(r.detail, /holds hugetlb: crun refuses every container/);
    assert.equal(r.fix, "mount each on a v1 hierarchy, as systemd's hybrid layout does: mkdir -p /sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb");
    assert.equal(doctorExitCode([...held.values()]), 0, 'runc still runs pods');
    assert.equal(doctor(kernel(), goodBins()).has('cgroup2 controllers (hybrid)'), false, 'not on a v2 host');
  });

  it('refuses containerd older than 1.6 and a missing one, with the apt package', () => {
    const old = doctor(kernel(), bins({ containerd: script('containerd github.com/containerd/containerd 1.5.9~ds1'), runc: script('{}') })).get('containerd')!;
    assert.deepEqual([old.status, old.required], ['missing', true]);
    assert.match(old.detail, /1\.5\.9~ds1 is older than 1\.6/);
    const absent = doctor(kernel(), bins({ runc: script('{}') })).get('containerd')!;
    assert.deepEqual([absent.status, absent.fix], ['missing', 'apt-get install containerd']);
  });

  it('reports a runc whose `features` fails, a missing crun and missing CNI plugins', () => {
    const results = doctor(kernel(), bins({ containerd: script('containerd v1.6.20'), runc: script('unknown command features', 1) }),
      { cniBinDirs: [cniDir(['bridge', 'loopback']), path.join(tmp, 'nope')] });
    const runc = results.get('runtime runc')!;
    assert.equal(runc.status, 'missing');
    assert.equal(runc.required, true);
    assert.match(runc.detail, /\/runc does not run: unknown command features$/);
    assert.deepEqual([results.get('runtime crun')!.status, results.get('runtime crun')!.required], ['missing', false]);
    const cni = results.get('cni plugins')!;
    assert.match(cni.detail, /^host-local \(pod IPs\), portmap \(hostPort\) not in /);
    assert.match(cni.fix!, /containernetworking-plugins/);
    assert.equal(doctorExitCode([...results.values()]), 1);
  });

  it('treats a runtime without the features command as an optional gap, but crun (1.8), whose features crikitd probes, as fine', () => {
    const withoutFeatures = (version: string) => `#!/bin/sh\nif [ "$1" = --version ]; then echo "${version}"; exit 0; fi\necho "unknown command features" >&2; exit 1\n`;
    const bin = bins({ containerd: script('containerd v1.6.20'), runc: withoutFeatures('runc version 1.0.3'), crun: withoutFeatures('crun version 1.8.1') });
    const results = doctor(kernel(), bin, { runtimeBinaries: ['runc', 'crun'] });
    const r = results.get('runtime runc')!;
    assert.deepEqual([r.status, r.required, r.detail], ['missing', false, `${bin}/runc runc version 1.0.3, but features failed: unknown command features`]);
    const c = results.get('runtime crun')!;
    assert.deepEqual([c.status, c.required], ['ok', true]);
    assert.match(c.detail, /crun version 1\.8\.1, no features command: crikitd takes its features from the release and checks them/);
    assert.equal(doctorExitCode([...results.values()]), 0);
  });

  it('flags an empty CNI conf dir, no user namespaces, an old kernel and no seccomp as optional', () => {
    const root = kernel({ 'proc/sys/user/max_user_namespaces': '0\n', 'proc/sys/kernel/osrelease': '5.10.0-28-amd64\n',
      'proc/self/status': `CapBnd:\t${fullCaps}\n`, 'proc/sys/kernel/seccomp/actions_avail': null });
    const results = doctor(root, goodBins(), { cniConfDir: tree({ 'README': 'no configs' }) });
    for (const name of ['cni conf dir', 'user namespaces', 'idmapped mounts', 'seccomp']) {
      assert.deepEqual([results.get(name)!.status, results.get(name)!.required], ['missing', false], name);
    }
    assert.match(results.get('user namespaces')!.fix!, /sysctl -w user\.max_user_namespaces/);
    assert.match(results.get('idmapped mounts')!.detail, /5\.10\.0-28-amd64 is older than 5\.12/);
    assert.equal(doctorExitCode([...results.values()]), 0);
  });

  it('takes binaries and CNI dirs from a crikitd config', () => {
    const dir = tree({});
    const file = path.join(dir, 'crikit.toml');
    fs.writeFileSync(file, [
      '[containerd.managed]', 'binary = "/opt/containerd/bin/containerd"',
      '[cni]', 'confDir = "/srv/net.d"', 'binDirs = ["/srv/cni"]',
      '[runtimes]', 'restrictOomScoreAdj = true',
      '[runtimes.handlers.runc]', 'runtimeType = "io.containerd.runc.v2"',
      '[runtimes.handlers.fast]', 'runtimeType = "io.containerd.runc.v2"', 'binaryName = "/usr/bin/crun"',
    ].join('\n'));
    assert.deepEqual(readDoctorOptions(file), {
      containerdBinary: '/opt/containerd/bin/containerd', containerdAddress: 'managed', runtimeBinaries: ['runc', '/usr/bin/crun'],
      cniConfDir: '/srv/net.d', cniBinDirs: ['/srv/cni'], restrictOomScoreAdj: true,
    });
    fs.writeFileSync(file, '[cni\nconfDir =');
    assert.throws(() => readDoctorOptions(file), /read config ".*crikit\.toml"/);
  });
});
