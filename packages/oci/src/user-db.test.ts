import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '@crikit/core';
import { memberGids, mergeGids, parseGroup, parsePasswd, resolveUser, type UserDb } from './user-db.js';

const db: UserDb = {
  passwd: 'root:x:0:0:root:/root:/bin/sh\n# comment\nbroken\nnginx:x:101:101::/:/sbin/nologin\napp:x:1000:1000::/home/app:/bin/sh\n',
  group: 'root:x:0:\nwheel:x:10:root,app\nnginx:x:101:nginx\nvideo:x:44:app\ndocker:x:999: app , nginx\n',
};

describe('parsePasswd / parseGroup', () => {
  it('reads entries and skips comments and malformed lines', () => {
    assert.deepEqual(parsePasswd(db.passwd).map(e => e.name), ['root', 'nginx', 'app']);
    assert.deepEqual(parseGroup(db.group).find(g => g.name === 'docker')?.members, ['app', 'nginx']);
    assert.deepEqual(parsePasswd(undefined), []);
  });
});

describe('resolveUser', () => {
  it('is root for an empty string', () => assert.deepEqual(resolveUser('', db), { uid: 0, gid: 0 }));
  it('takes the primary gid of a uid from passwd, else 0', () => {
    assert.deepEqual(resolveUser('1000', db), { uid: 1000, gid: 1000 });
    assert.deepEqual(resolveUser('4242', db), { uid: 4242, gid: 0 });
    assert.deepEqual(resolveUser('65535', { passwd: undefined, group: undefined }), { uid: 65535, gid: 0 });
  });
  it('looks up a name', () => assert.deepEqual(resolveUser('nginx', db), { uid: 101, gid: 101 }));
  it('handles uid:gid, name:gid, uid:group and name:group', () => {
    assert.deepEqual(resolveUser('65535:65535', db), { uid: 65535, gid: 65535 });
    assert.deepEqual(resolveUser('app:10', db), { uid: 1000, gid: 10 });
    assert.deepEqual(resolveUser('1000:video', db), { uid: 1000, gid: 44 });
    assert.deepEqual(resolveUser('nginx:wheel', db), { uid: 101, gid: 10 });
  });
  it('names what it cannot find', () => {
    assert.throws(() => resolveUser('ghost', db), (e: Error) => e instanceof InvalidArgumentError && e.message.includes('"ghost"'));
    assert.throws(() => resolveUser('1000:ghosts', db), (e: Error) => e instanceof InvalidArgumentError && e.message.includes('"ghosts"'));
    assert.throws(() => resolveUser('app', { passwd: undefined, group: undefined }), InvalidArgumentError);
  });
  it('refuses malformed strings', () => {
    for (const bad of ['a:b:c', ':1', '1:', '99999999999']) {
      assert.throws(() => resolveUser(bad, { passwd: '99999999999:x:1:1::/:/', group: undefined }), InvalidArgumentError, bad);
    }
  });
});

describe('memberGids / mergeGids', () => {
  it('lists the groups naming the user, by name or uid', () => {
    assert.deepEqual(memberGids('app', db), [10, 44, 999]);
    assert.deepEqual(memberGids('1000', db), [10, 44, 999]);
    assert.deepEqual(memberGids('0', db), [10]);
    assert.deepEqual(memberGids('4242', db), []);
  });
  it('does not count the user’s own group as supplemental', () => {
    assert.deepEqual(memberGids('nginx', db), [999]);
  });
  it('merges sorted and unique', () => assert.deepEqual(mergeGids([1000, 10], [44, 10], []), [10, 44, 1000]));
});
