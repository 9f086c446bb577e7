import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cri } from '@crikit/api';
import { FailedPreconditionError, InternalError } from '@crikit/core';
import { containerNamespaces } from './container-namespaces.js';
import { sandboxConfig, sandboxContext } from './container-spec-fixtures.js';

const M = cri.NamespaceMode;
const sc = (pid: cri.NamespaceMode, targetId = ''): cri.LinuxContainerSecurityContext =>
  ({ ...cri.LinuxContainerSecurityContext.fromPartial({}), namespaceOptions: { ...cri.NamespaceOption.fromPartial({}), pid, targetId } });
const ctx = (sandbox = sandboxContext(), patch: { targetPid?: number; privileged?: boolean; cgroupVersion?: 1 | 2 } = {}) =>
  ({ sandbox, privileged: false, cgroupVersion: 2 as const, ...patch });

describe('containerNamespaces', () => {
  it('joins the pod’s netns and the pause’s uts/ipc/pid, with new mount and cgroup namespaces', () => {
    assert.deepEqual(containerNamespaces(sc(M.POD), ctx()), [
      { type: 'mount' },
      { type: 'network', path: '/var/run/netns/cni-1' },
      { type: 'uts', path: '/proc/4242/ns/uts' },
      { type: 'ipc', path: '/proc/4242/ns/ipc' },
      { type: 'pid', path: '/proc/4242/ns/pid' },
      { type: 'cgroup' },
    ]);
  });
  it('uses the host’s network and uts, and ipc, when the pod does', () => {
    const sandbox = sandboxContext(sandboxConfig({}, { network: M.NODE, ipc: M.NODE }), { netnsPath: undefined });
    assert.deepEqual(containerNamespaces(sc(M.POD), ctx(sandbox)).map(n => n.type), ['mount', 'pid', 'cgroup']);
  });
  it('picks the pid namespace by mode', () => {
    const pid = (s: cri.LinuxContainerSecurityContext, c = ctx()) => containerNamespaces(s, c).find(n => n.type === 'pid');
    assert.deepEqual(pid(sc(M.CONTAINER)), { type: 'pid' });
    assert.equal(pid(sc(M.NODE)), undefined);
    assert.deepEqual(pid(sc(M.TARGET, 'abc'), ctx(sandboxContext(), { targetPid: 777 })), { type: 'pid', path: '/proc/777/ns/pid' });
    assert.equal(pid(sc(M.POD), ctx(sandboxContext(sandboxConfig({}, { pid: M.NODE })))), undefined);
    assert.throws(() => containerNamespaces(sc(M.TARGET, 'abc'), ctx()), FailedPreconditionError);
  });
  it('has no cgroup namespace on cgroup v1 or when privileged', () => {
    assert.ok(!containerNamespaces(sc(M.POD), ctx(sandboxContext(), { cgroupVersion: 1 })).some(n => n.type === 'cgroup'));
    assert.ok(!containerNamespaces(sc(M.POD), ctx(sandboxContext(), { privileged: true })).some(n => n.type === 'cgroup'));
  });
  it('needs a running pause and a netns for a pod network', () => {
    assert.throws(() => containerNamespaces(sc(M.POD), ctx(sandboxContext(sandboxConfig(), { pid: 0 }))), FailedPreconditionError);
    assert.throws(() => containerNamespaces(sc(M.POD), ctx(sandboxContext(sandboxConfig(), { netnsPath: undefined }))), InternalError);
  });
});
