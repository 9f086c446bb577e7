import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CRUN_1_8_1_VERSION, RUNC_1_1_5_VERSION } from './recorded-features.js';
import { identifyRuntime, versionFeatures } from './version-features.js';

describe('identifyRuntime', () => {
  it('names crun from its --version, and nothing else', () => {
    assert.deepEqual(identifyRuntime(CRUN_1_8_1_VERSION), { name: 'crun', version: [1, 8, 1], text: 'crun 1.8.1' });
    assert.deepEqual(identifyRuntime('crun version 1.4\ncommit: x\n')?.version, [1, 4, 0]);
    assert.equal(identifyRuntime(RUNC_1_1_5_VERSION), undefined);
    assert.equal(identifyRuntime('youki version 0.3.0\n'), undefined);
    assert.equal(identifyRuntime(''), undefined);
    assert.equal(identifyRuntime('this is not crun version 1.8.1'), undefined);
  });
});

describe('versionFeatures', () => {
  const of = (v: string) => versionFeatures(identifyRuntime(`crun version ${v}\n`)!);
  it('follows the releases in crun\'s NEWS: rro from 1.4, idmapped mounts with runc\'s mappings from 1.8.1, in a joined pid namespace from 1.8.6', () => {
    const f = (rro: boolean, idmap: boolean, joiningPid: boolean) => ({ recursiveReadOnlyMounts: rro, idmapMounts: idmap, idmapMountsJoiningPid: joiningPid, userNamespace: true });
    assert.deepEqual(of('1.3'), f(false, false, false));
    assert.deepEqual(of('1.4'), f(true, false, false));
    assert.deepEqual(of('1.8.0'), f(true, false, false));
    assert.deepEqual(of('1.8.1'), f(true, true, false));
    // 1.8.6 made idmapped mounts work in a container joining a pid namespace (and has `features`).
    assert.deepEqual(of('1.8.6'), f(true, true, true));
    assert.deepEqual(of('1.10.2'), f(true, true, true));
    assert.deepEqual(of('2.0'), f(true, true, true));
    assert.deepEqual(of('0.21'), f(false, false, false));
  });
});
