import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cri } from '@crikit/api';
import { containerRecord, sandboxRecord } from '../testing/record-builders.js';
import { toCriContainerState } from './container-status.js';
import { matchesContainerFilter, matchesSandboxFilter } from './cri-filters.js';
import { toCriSandboxState } from './sandbox-status.js';

describe('CRI state mapping', () => {
  it('reports an unknown sandbox as not ready', () => {
    assert.equal(toCriSandboxState('ready'), cri.PodSandboxState.SANDBOX_READY);
    assert.equal(toCriSandboxState('notready'), cri.PodSandboxState.SANDBOX_NOTREADY);
    assert.equal(toCriSandboxState('unknown'), cri.PodSandboxState.SANDBOX_NOTREADY);
  });

  it('maps every container state', () => {
    assert.equal(toCriContainerState('created'), cri.ContainerState.CONTAINER_CREATED);
    assert.equal(toCriContainerState('running'), cri.ContainerState.CONTAINER_RUNNING);
    assert.equal(toCriContainerState('exited'), cri.ContainerState.CONTAINER_EXITED);
    assert.equal(toCriContainerState('unknown'), cri.ContainerState.CONTAINER_UNKNOWN);
  });
});

describe('CRI filters', () => {
  const pod = sandboxRecord({ metadata: { config: cri.PodSandboxConfig.fromPartial({ metadata: { name: 'p' }, labels: { app: 'a', tier: 't' } }) }, status: { state: 'unknown' } });

  it('match sandboxes by id prefix, CRI state and labels', () => {
    const f = (filter: Parameters<typeof cri.PodSandboxFilter.fromPartial>[0]) => matchesSandboxFilter(pod, cri.PodSandboxFilter.fromPartial(filter));
    assert.equal(matchesSandboxFilter(pod, undefined), true);
    assert.equal(f({ id: pod.metadata.id.slice(0, 5) }), true);
    assert.equal(f({ id: 'zz' }), false);
    assert.equal(f({ state: { state: cri.PodSandboxState.SANDBOX_NOTREADY } }), true);
    assert.equal(f({ state: { state: cri.PodSandboxState.SANDBOX_READY } }), false);
    assert.equal(f({ labelSelector: { app: 'a' } }), true);
    assert.equal(f({ labelSelector: { app: 'a', tier: 'x' } }), false);
  });

  it('match containers by sandbox prefix and state', () => {
    const ctr = containerRecord({ status: { state: 'running' } }, pod);
    const f = (filter: Parameters<typeof cri.ContainerFilter.fromPartial>[0]) => matchesContainerFilter(ctr, cri.ContainerFilter.fromPartial(filter));
    assert.equal(f({ podSandboxId: pod.metadata.id.slice(0, 6) }), true);
    assert.equal(f({ podSandboxId: 'zz' }), false);
    assert.equal(f({ state: { state: cri.ContainerState.CONTAINER_RUNNING } }), true);
    assert.equal(f({ state: { state: cri.ContainerState.CONTAINER_EXITED } }), false);
  });
});
