import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '../errors.js';
import type { ImageId } from '../ids.js';
import { imageRecord } from '../testing/record-builders.js';
import { imageStoreWith } from '../testing/store-builders.js';

const id = (hex: string): ImageId => `sha256:${hex.padEnd(64, '0')}` as ImageId;
const busybox = 'docker.io/library/busybox:latest';

describe('ImageStore', () => {
  it('finds an image by tag, digest reference, full id and short id with or without sha256:', () => {
    const image = imageRecord({ metadata: { id: id('abc') }, status: { repoTags: [busybox], repoDigests: ['docker.io/library/busybox@sha256:1234'] } });
    const store = imageStoreWith([image, imageRecord({ metadata: { id: id('abd') } })]);
    for (const ref of [busybox, 'docker.io/library/busybox@sha256:1234', id('abc'), 'abc', 'sha256:abc']) {
      assert.equal(store.get(ref).metadata.id, id('abc'), ref);
    }
    assert.throws(() => store.get('ab'), InvalidArgumentError);
    assert.throws(() => store.get('busybox'), NotFoundError);
    assert.equal(store.find('docker.io/library/nginx:latest'), undefined);
  });

  it('add refuses a known id', () => {
    const store = imageStoreWith([imageRecord({ metadata: { id: id('aa') } })]);
    assert.throws(() => store.add(imageRecord({ metadata: { id: id('aa') } })), AlreadyExistsError);
    assert.equal(store.size, 1);
  });

  it('moves a tag to the image that takes it; the old image stays, reachable by id', () => {
    const old = imageRecord({ metadata: { id: id('01') }, status: { repoTags: [busybox, 'docker.io/library/busybox:1'] } });
    const store = imageStoreWith([old]);
    store.add(imageRecord({ metadata: { id: id('02') }, status: { repoTags: [busybox], repoDigests: [] } }));
    assert.equal(store.get(busybox).metadata.id, id('02'));
    assert.deepEqual(store.get(id('01')).status.repoTags, ['docker.io/library/busybox:1']);
    assert.deepEqual(old.status.repoTags, [busybox, 'docker.io/library/busybox:1'], 'handed-out snapshots do not change');
  });

  it('update changes names and pin; names dropped are freed; a throwing update changes nothing', () => {
    const store = imageStoreWith([imageRecord({ metadata: { id: id('aa') }, status: { repoTags: ['x:1'], repoDigests: [] } })]);
    const next = store.update(id('aa'), s => ({ ...s, repoTags: ['x:2'], pinned: true }));
    assert.equal(next.status.pinned, true);
    assert.equal(store.find('x:1'), undefined);
    assert.equal(store.get('x:2').metadata.id, id('aa'));
    assert.throws(() => store.update(id('aa'), () => { throw new Error('no'); }), /no/);
    assert.equal(store.get('x:2'), next);
    assert.throws(() => store.update(id('ff'), s => s), NotFoundError);
  });

  it('delete is idempotent and frees every name and the short id', () => {
    const store = imageStoreWith([imageRecord({ metadata: { id: id('abc') }, status: { repoTags: ['x:1'], repoDigests: ['x@sha256:1'] } })]);
    store.delete(id('abc'));
    store.delete(id('abc'));
    assert.equal(store.size, 0);
    for (const ref of ['x:1', 'x@sha256:1', 'abc']) assert.equal(store.find(ref), undefined);
  });

  it('list filters', () => {
    const store = imageStoreWith([imageRecord({ status: { pinned: true } }), imageRecord()]);
    assert.equal(store.list(r => r.status.pinned).length, 1);
    assert.equal(store.list().length, 2);
  });
});
