// UpdateRuntimeConfig: the kubelet's pod CIDR fills crikit's CNI config template, as containerd's conf_template.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { createRuntime } from '@crikit/server';
import { criClient } from '../support/cri-client.js';
import { tempRuntimeDirs } from '../support/crikitd.js';

const dirs = tempRuntimeDirs();
after(() => dirs.cleanup());

test('a pod CIDR renders the template into the conf dir and the network becomes ready', async () => {
  const confDir = (dirs.config.cni as { confDir: string }).confDir;
  const template = path.join(dirs.dir, 'template.conflist');
  fs.writeFileSync(template, JSON.stringify({
    cniVersion: '1.0.0', name: 'k8s-pod-network',
    plugins: [{ type: 'bridge', bridge: 'cktpl0', ipam: { type: 'host-local', ranges: [[{ subnet: '{{.PodCIDR}}' }]] } }],
  }));
  const runtime = createRuntime({ config: { ...dirs.config, cni: { confDir, confTemplate: template } } });
  await runtime.start(AbortSignal.timeout(60_000));
  const c = criClient(runtime.socket);
  try {
    const networkReady = async () => (await c.runtime.status({})).status!.conditions.find(x => x.type === 'NetworkReady')!.status;
    assert.equal(await networkReady(), false);
    await c.runtime.updateRuntimeConfig({ runtimeConfig: { networkConfig: { podCidr: '10.88.90.0/24' } } });
    for (let i = 0; i < 50 && !(await networkReady()); i++) await new Promise(r => setTimeout(r, 100));
    assert.equal(await networkReady(), true);
    const written = JSON.parse(fs.readFileSync(path.join(confDir, '10-crikit-net.conflist'), 'utf8'));
    assert.deepEqual(written.plugins[0].ipam.ranges, [[{ subnet: '10.88.90.0/24' }]]);
    await c.runtime.updateRuntimeConfig({ runtimeConfig: { networkConfig: { podCidr: '' } } });
  } finally {
    c.close();
    await runtime.stop(AbortSignal.timeout(30_000));
  }
});
