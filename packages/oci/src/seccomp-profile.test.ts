import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_CAPABILITIES, LINUX_CAPABILITIES } from './capabilities.js';
import type { OciSeccomp } from './oci-spec.js';
import { RUNTIME_DEFAULT_SECCOMP_RULES } from './seccomp-default-rules.js';
import { runtimeDefaultSeccompProfile, seccompNodeArch } from './seccomp-profile.js';

const allowed = (profile: OciSeccomp): Set<string> =>
  new Set(profile.syscalls?.filter(s => s.action === 'SCMP_ACT_ALLOW' && !s.args?.length).flatMap(s => s.names));

describe('runtimeDefaultSeccompProfile', () => {
  const profile = runtimeDefaultSeccompProfile({ capabilities: DEFAULT_CAPABILITIES, arch: 'amd64' });

  it('denies with EPERM by default, for the node’s architectures', () => {
    assert.equal(profile.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(profile.defaultErrnoRet, 1);
    assert.deepEqual(profile.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    assert.deepEqual(runtimeDefaultSeccompProfile({ capabilities: [], arch: 'arm64' }).architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  });

  it('allows what a normal container needs', () => {
    const names = allowed(profile);
    assert.ok(names.size > 300, `only ${names.size} syscalls`);
    for (const s of ['read', 'write', 'openat', 'execve', 'futex', 'epoll_wait', 'socket', 'clock_gettime', 'rseq', 'arch_prctl', 'chroot']) {
      assert.ok(names.has(s), s);
    }
  });

  it('never allows the dangerous syscalls without their capability', () => {
    const names = allowed(profile);
    for (const s of ['kexec_load', 'init_module', 'finit_module', 'delete_module', 'reboot', 'swapon', 'swapoff', 'mount',
      'umount2', 'acct', 'bpf', 'perf_event_open', 'unshare', 'setns', 'keyctl', 'io_uring_setup', 'clock_settime', 'ptrace_x']) {
      assert.ok(!names.has(s), s);
    }
  });

  it('keys conditional rules on the container’s capabilities', () => {
    const admin = allowed(runtimeDefaultSeccompProfile({ capabilities: [...DEFAULT_CAPABILITIES, 'SYS_ADMIN'], arch: 'amd64' }));
    for (const s of ['mount', 'umount2', 'unshare', 'setns', 'clone', 'clone3', 'bpf', 'perf_event_open']) assert.ok(admin.has(s), s);
    assert.ok(!admin.has('reboot'));
    assert.ok(allowed(runtimeDefaultSeccompProfile({ capabilities: ['CAP_BPF'], arch: 'amd64' })).has('bpf'));
    assert.ok(allowed(runtimeDefaultSeccompProfile({ capabilities: ['CAP_PERFMON'], arch: 'amd64' })).has('perf_event_open'));
    assert.ok(allowed(runtimeDefaultSeccompProfile({ capabilities: ['CAP_SYS_BOOT'], arch: 'amd64' })).has('reboot'));
    assert.ok(!allowed(runtimeDefaultSeccompProfile({ capabilities: [], arch: 'amd64' })).has('chroot'));
    const all = allowed(runtimeDefaultSeccompProfile({ capabilities: LINUX_CAPABILITIES, arch: 'amd64' }));
    for (const s of ['kexec_load', 'swapon', 'keyctl']) assert.ok(!all.has(s), s);
  });

  it('filters clone’s namespace flags and fails clone3 with ENOSYS without CAP_SYS_ADMIN', () => {
    const clone = profile.syscalls?.find(s => s.names.includes('clone'));
    assert.deepEqual(clone?.args, [{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }]);
    const clone3 = profile.syscalls?.find(s => s.names.includes('clone3'));
    assert.equal(clone3?.action, 'SCMP_ACT_ERRNO');
    assert.equal(clone3?.errnoRet, 38);
    const admin = runtimeDefaultSeccompProfile({ capabilities: ['SYS_ADMIN'], arch: 'amd64' });
    assert.ok(!admin.syscalls?.some(s => s.names.includes('clone') && s.args?.length));
    assert.ok(!admin.syscalls?.some(s => s.names.includes('clone3') && s.action === 'SCMP_ACT_ERRNO'));
  });

  it('restricts personality to the plain personas', () => {
    const values = profile.syscalls?.filter(s => s.names.includes('personality')).map(s => s.args?.[0]?.value);
    assert.deepEqual(values, [0, 8, 0x20000, 0x20008, 0xffffffff]);
  });

  it('includes architecture-specific rules only on their architecture', () => {
    const arm = allowed(runtimeDefaultSeccompProfile({ capabilities: [], arch: 'arm64' }));
    assert.ok(arm.has('set_tls') && !arm.has('arch_prctl'));
    assert.ok(!allowed(profile).has('set_tls'));
  });

  it('returns fresh objects and leaves the rule table alone', () => {
    const a = runtimeDefaultSeccompProfile({ capabilities: [], arch: 'amd64' });
    a.syscalls?.[0]?.names.push('kexec_load');
    assert.ok(!allowed(runtimeDefaultSeccompProfile({ capabilities: [], arch: 'amd64' })).has('kexec_load'));
    assert.ok(Object.isFrozen(RUNTIME_DEFAULT_SECCOMP_RULES));
  });

  it('maps Node architectures to Go’s', () => {
    assert.equal(seccompNodeArch('x64'), 'amd64');
    assert.equal(seccompNodeArch('arm64'), 'arm64');
    assert.equal(seccompNodeArch('s390x'), undefined);
  });
});
