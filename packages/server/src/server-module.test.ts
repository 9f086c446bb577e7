import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRuntime } from './create-runtime.js';
import { CriGrpcServer } from './cri-grpc-server.js';
import { CriHandlerGroup } from './cri-handler-group.js';

test('createRuntime composes every module: the server and all handler groups resolve', () => {
  const runtime = createRuntime({ config: { server: { socket: '/tmp/crikit-module-test.sock' } } });
  assert.ok(runtime.container.get(CriGrpcServer) instanceof CriGrpcServer);
  const groups = runtime.container.getAll<CriHandlerGroup>(CriHandlerGroup);
  const runtimeRpcs = new Set(groups.flatMap(g => Object.keys(g.runtime?.() ?? {})));
  const imageRpcs = new Set(groups.flatMap(g => Object.keys(g.image?.() ?? {})));
  for (const rpc of ['version', 'status', 'runPodSandbox', 'createContainer', 'execSync', 'getContainerEvents', 'updateRuntimeConfig',
    'containerStats', 'listContainerStats', 'streamContainerStats', 'podSandboxStats', 'listPodSandboxStats', 'streamPodSandboxStats',
    'listMetricDescriptors', 'listPodSandboxMetrics', 'streamPodSandboxMetrics']) {
    assert.ok(runtimeRpcs.has(rpc), `${rpc} has a handler`);
  }
  for (const rpc of ['pullImage', 'listImages', 'imageStatus', 'removeImage', 'imageFsInfo', 'streamImages']) {
    assert.ok(imageRpcs.has(rpc), `${rpc} has a handler`);
  }
});
