import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cri } from '@crikit/api';
import { InvalidArgumentError } from '../errors.js';
import { podUserNamespace, sameUserNamespace, sandboxUserNamespace } from './pod-user-namespace.js';

const UIDS = { containerId: 0, hostId: 65536, length: 65536 };
const GIDS = { containerId: 0, hostId: 131072, length: 65536 };
const options = (patch: Partial<cri.UserNamespace>) => cri.UserNamespace.fromPartial({ mode: cri.NamespaceMode.POD, uids: [UIDS], gids: [GIDS], ...patch });
const refused = (patch: Partial<cri.UserNamespace>, message: RegExp) =>
  assert.throws(() => podUserNamespace(options(patch)), (e: Error) => e instanceof InvalidArgumentError && message.test(e.message) && /userns_options/.test(e.message));

describe('podUserNamespace', () => {
  it('reads one uid and one gid range for mode POD', () => {
    assert.deepEqual(podUserNamespace(options({})), { uids: UIDS, gids: GIDS });
  });
  it('means no user namespace without options or in mode NODE without mappings', () => {
    assert.equal(podUserNamespace(undefined), undefined);
    assert.equal(podUserNamespace(cri.UserNamespace.fromPartial({ mode: cri.NamespaceMode.NODE })), undefined);
  });
  it('refuses what cannot be honoured, naming the field and the reason', () => {
    refused({ uids: [{ ...UIDS, containerId: 1 }] }, /uids: container id 0 is not mapped/);
    refused({ gids: [{ ...GIDS, containerId: 5 }] }, /gids: container id 0 is not mapped/);
    refused({ uids: [UIDS, { containerId: 65536, hostId: 1, length: 1 }] }, /uids: only one mapping is supported, got 2/);
    refused({ gids: [GIDS, GIDS] }, /gids: only one mapping is supported, got 2/);
    refused({ gids: [] }, /gids: mode POD needs one mapping, got none/);
    refused({ uids: [{ ...UIDS, length: 0 }] }, /length must be at least 1/);
    refused({ uids: [{ ...UIDS, hostId: 2 ** 32 - 10 }] }, /32-bit limit/);
    refused({ mode: cri.NamespaceMode.CONTAINER }, /mode CONTAINER is not supported/);
    refused({ mode: cri.NamespaceMode.TARGET }, /mode TARGET is not supported/);
    refused({ mode: cri.NamespaceMode.NODE }, /mode NODE takes no mappings/);
  });
  it('reads a sandbox config\'s options', () => {
    const config = cri.PodSandboxConfig.fromPartial({ linux: { securityContext: { namespaceOptions: { usernsOptions: options({}) } } } });
    assert.deepEqual(sandboxUserNamespace(config), { uids: UIDS, gids: GIDS });
    assert.equal(sandboxUserNamespace(cri.PodSandboxConfig.fromPartial({})), undefined);
  });
});

describe('sameUserNamespace', () => {
  it('compares both ranges; none equals none only', () => {
    const a = { uids: UIDS, gids: GIDS };
    assert.equal(sameUserNamespace(a, { uids: { ...UIDS }, gids: { ...GIDS } }), true);
    assert.equal(sameUserNamespace(a, { uids: UIDS, gids: { ...GIDS, length: 1 } }), false);
    assert.equal(sameUserNamespace(a, { uids: { ...UIDS, hostId: 1 }, gids: GIDS }), false);
    assert.equal(sameUserNamespace(undefined, undefined), true);
    assert.equal(sameUserNamespace(a, undefined), false);
    assert.equal(sameUserNamespace(undefined, a), false);
  });
});
