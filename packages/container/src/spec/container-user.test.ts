import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cri } from '@crikit/api';
import { decodeOciImageConfig, InvalidArgumentError, type OciImageConfig } from '@crikit/core';
import { type UserDb } from '@crikit/oci';
import { containerUser, criUserString, groupMemberUser } from './container-user.js';

const db: UserDb = {
  passwd: 'root:x:0:0::/root:/bin/sh\nnginx:x:101:101::/:/sbin/nologin\napp:x:1000:1000::/home/app:/bin/sh\n',
  group: 'root:x:0:\nwheel:x:10:root,app\nnginx:x:101:\nvideo:x:44:app\n',
};
const image = (User?: string): OciImageConfig => decodeOciImageConfig({ architecture: 'amd64', os: 'linux', config: { User } });
const sc = (patch: Partial<cri.LinuxContainerSecurityContext>): cri.LinuxContainerSecurityContext =>
  ({ ...cri.LinuxContainerSecurityContext.fromPartial({}), ...patch });

describe('criUserString', () => {
  it('prefers run_as_username, adds run_as_group', () => {
    assert.equal(criUserString(sc({ runAsUsername: 'app', runAsUser: { value: 5n } })), 'app');
    assert.equal(criUserString(sc({ runAsUser: { value: 5n }, runAsGroup: { value: 6n } })), '5:6');
    assert.equal(criUserString(sc({ runAsUser: { value: 0n } })), '0');
    assert.equal(criUserString(undefined), '');
  });
  it('refuses a group without a user', () => {
    assert.throws(() => criUserString(sc({ runAsGroup: { value: 6n } })), InvalidArgumentError);
  });
});

describe('groupMemberUser', () => {
  it('falls back from the CRI to the image user to root', () => {
    assert.equal(groupMemberUser(sc({ runAsUser: { value: 1000n } }), image('nginx')), '1000');
    assert.equal(groupMemberUser(undefined, image('app:video')), 'app');
    assert.equal(groupMemberUser(undefined, image()), '0');
  });
});

describe('containerUser', () => {
  it('runs as root with root’s groups when nobody says otherwise', () => {
    assert.deepEqual(containerUser(undefined, image(), db), { uid: 0, gid: 0, additionalGids: [0, 10] });
  });
  it('resolves the image user forms', () => {
    assert.deepEqual(containerUser(undefined, image('nginx'), db), { uid: 101, gid: 101, additionalGids: [101] });
    assert.deepEqual(containerUser(undefined, image('1000'), db), { uid: 1000, gid: 1000, additionalGids: [10, 44, 1000] });
    assert.deepEqual(containerUser(undefined, image('1000:44'), db), { uid: 1000, gid: 44, additionalGids: [10, 44] });
    assert.deepEqual(containerUser(undefined, image('app:wheel'), db), { uid: 1000, gid: 10, additionalGids: [10, 44] });
  });
  it('lets the CRI user replace the image’s', () => {
    assert.deepEqual(containerUser(sc({ runAsUser: { value: 1000n } }), image('nginx'), db), { uid: 1000, gid: 1000, additionalGids: [10, 44, 1000] });
    assert.deepEqual(containerUser(sc({ runAsUsername: 'nginx', runAsGroup: { value: 7n } }), image(), db), { uid: 101, gid: 7, additionalGids: [7] });
    assert.deepEqual(containerUser(sc({ runAsUser: { value: 4242n } }), image(), db), { uid: 4242, gid: 0, additionalGids: [0] });
  });
  it('merges CRI supplemental groups (policy Merge)', () => {
    assert.deepEqual(containerUser(sc({ runAsUser: { value: 1000n }, supplementalGroups: [2000n, 44n] }), image(), db).additionalGids, [10, 44, 1000, 2000]);
  });
  it('ignores /etc/group under policy Strict', () => {
    const strict = sc({ runAsUser: { value: 1000n }, supplementalGroups: [2000n], supplementalGroupsPolicy: cri.SupplementalGroupsPolicy.Strict });
    assert.deepEqual(containerUser(strict, image(), db).additionalGids, [1000, 2000]);
    // The image's own user and primary group still come from /etc/passwd; only its memberships go.
    const imageUser = sc({ supplementalGroupsPolicy: cri.SupplementalGroupsPolicy.Strict });
    assert.deepEqual(containerUser(imageUser, image('app'), db), { uid: 1000, gid: 1000, additionalGids: [1000] });
  });
  it('refuses a policy other than Merge and Strict', () => {
    assert.throws(() => containerUser(sc({ supplementalGroupsPolicy: 5 as cri.SupplementalGroupsPolicy }), image(), db),
      (e: Error) => e instanceof InvalidArgumentError && e.message.includes('supplemental_groups_policy'));
  });
  it('names an unknown user or group', () => {
    assert.throws(() => containerUser(sc({ runAsUsername: 'ghost' }), image(), db), (e: Error) => e instanceof InvalidArgumentError && e.message.includes('"ghost"'));
    assert.throws(() => containerUser(undefined, image('app:ghosts'), db), InvalidArgumentError);
    assert.throws(() => containerUser(sc({ runAsUser: { value: 1n }, supplementalGroups: [-1n] }), image(), db), InvalidArgumentError);
    for (const g of [-1n, 0xffff_ffffn, 1n << 40n]) {
      assert.throws(() => containerUser(sc({ runAsUser: { value: 1n }, supplementalGroups: [g] }), image(), db),
        (e: Error) => e instanceof InvalidArgumentError && e.message.includes('supplemental_groups') && e.message.includes(String(g)));
    }
  });
});
