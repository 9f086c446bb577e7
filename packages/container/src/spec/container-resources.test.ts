import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cri } from '@crikit/api';
import { FailedPreconditionError, InvalidArgumentError } from '@crikit/core';
import { containerResources, type ResourceContext } from './container-resources.js';

const res = (patch: Partial<cri.LinuxContainerResources>): cri.LinuxContainerResources => ({ ...cri.LinuxContainerResources.fromPartial({}), ...patch });
const v2: ResourceContext = { cgroupVersion: 2, swapControllerAvailable: true, hugetlbControllerAvailable: true };

describe('containerResources', () => {
  it('is empty without resources or with only zero values', () => {
    assert.deepEqual(containerResources(undefined, v2), {});
    assert.deepEqual(containerResources(res({}), v2), {});
  });
  it('maps cpu shares, quota, period and cpusets', () => {
    assert.deepEqual(containerResources(res({ cpuShares: 512n, cpuQuota: 50000n, cpuPeriod: 100000n, cpusetCpus: '0-1', cpusetMems: '0' }), v2).cpu,
      { shares: 512, quota: 50000, period: 100000, cpus: '0-1', mems: '0' });
    assert.deepEqual(containerResources(res({ cpuQuota: -1n }), v2).cpu, { quota: -1 });
  });
  it('sets swap equal to the memory limit unless the CRI sets it', () => {
    assert.deepEqual(containerResources(res({ memoryLimitInBytes: 1n << 30n }), v2).memory, { limit: 1 << 30, swap: 1 << 30 });
    assert.deepEqual(containerResources(res({ memoryLimitInBytes: 100n, memorySwapLimitInBytes: 300n }), v2).memory, { limit: 100, swap: 300 });
    assert.deepEqual(containerResources(res({ memoryLimitInBytes: 100n, memorySwapLimitInBytes: -1n }), v2).memory, { limit: 100, swap: -1 });
  });
  it('leaves swap alone without a swap controller', () => {
    const noSwap = { ...v2, swapControllerAvailable: false };
    assert.deepEqual(containerResources(res({ memoryLimitInBytes: 100n, memorySwapLimitInBytes: 300n }), noSwap).memory, { limit: 100 });
  });
  it('maps hugepage limits when the controller exists', () => {
    const hugepageLimits = [{ pageSize: '2MB', limit: 4194304n }];
    assert.deepEqual(containerResources(res({ hugepageLimits }), v2).hugepageLimits, [{ pageSize: '2MB', limit: 4194304 }]);
    assert.equal(containerResources(res({ hugepageLimits }), { ...v2, hugetlbControllerAvailable: false }).hugepageLimits, undefined);
  });
  it('passes unified on cgroup v2 and refuses it on v1', () => {
    assert.deepEqual(containerResources(res({ unified: { 'memory.high': '1G' } }), v2).unified, { 'memory.high': '1G' });
    assert.throws(() => containerResources(res({ unified: { 'memory.high': '1G' } }), { ...v2, cgroupVersion: 1 }), FailedPreconditionError);
  });
  it('refuses values beyond 2^53', () => {
    assert.throws(() => containerResources(res({ memoryLimitInBytes: 1n << 60n }), v2), InvalidArgumentError);
  });
});
