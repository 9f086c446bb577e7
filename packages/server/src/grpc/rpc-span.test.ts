import assert from 'node:assert/strict';
import { it } from 'node:test';
import { callAttributes, endRpcSpan } from './rpc-span.js';

it('names the pod and container of a call from its request, or from a create\'s response', () => {
  const podMeta = { name: 'web', namespace: 'shop', uid: 'u-1', attempt: 0 };
  assert.deepEqual(callAttributes({ config: { metadata: podMeta }, runtimeHandler: '' }, { podSandboxId: 'p1' }),
    { 'cri.pod_sandbox.id': 'p1', 'k8s.pod.name': 'web', 'k8s.namespace.name': 'shop', 'k8s.pod.uid': 'u-1' });
  assert.deepEqual(callAttributes({ podSandboxId: 'p1', config: { metadata: { name: 'app', attempt: 2 } }, sandboxConfig: { metadata: podMeta } }, { containerId: 'c1' }),
    { 'cri.pod_sandbox.id': 'p1', 'cri.container.id': 'c1', 'k8s.pod.name': 'web', 'k8s.namespace.name': 'shop', 'k8s.pod.uid': 'u-1', 'k8s.container.name': 'app' });
  assert.deepEqual(callAttributes({ containerId: 'c1', cmd: ['true'] }, undefined), { 'cri.container.id': 'c1' });
  // Empty ids (a filter left unset) and requests without ids name nothing.
  assert.deepEqual(callAttributes({ podSandboxId: '', filter: undefined }, {}), {});
  assert.deepEqual(callAttributes(undefined, undefined), {});
});

it('ends a span once with the attributes and the status code', () => {
  const seen: unknown[] = [];
  endRpcSpan({ setAttributes: a => seen.push(a), end: (code, message) => seen.push([code, message]) }, { containerId: 'c1' }, undefined, 5, 'container "c1" not found');
  assert.deepEqual(seen, [{ 'cri.container.id': 'c1' }, [5, 'container "c1" not found']]);
});
