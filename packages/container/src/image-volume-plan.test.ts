import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cri, type PartialMessage } from '@crikit/api';
import { InvalidArgumentError, NotFoundError } from '@crikit/core';
import { FakeImageService, imageRecord } from '@crikit/core/testing';
import { planImageVolumes } from './image-volume-plan.js';

const data = imageRecord({ status: { repoTags: ['registry.test/data:1'], repoDigests: [], pinned: false } });
const images = new FakeImageService();
images.store.add(data);

const config = (...mounts: PartialMessage<cri.Mount>[]) => cri.ContainerConfig.fromPartial({ metadata: { name: 'c' }, mounts });
const volume = (extra: PartialMessage<cri.Mount> = {}): PartialMessage<cri.Mount> =>
  ({ containerPath: '/vol', image: { image: 'registry.test/data:1' }, readonly: true, ...extra });
const plan = (...mounts: PartialMessage<cri.Mount>[]) => planImageVolumes(config(...mounts), images, 'create container c');

describe('planImageVolumes', () => {
  it('finds the image of each image mount, by index, and skips host path mounts', () => {
    const planned = plan({ containerPath: '/host', hostPath: '/tmp' }, volume(), volume({ containerPath: '/by-id', image: { image: data.metadata.id } }));
    assert.deepEqual(planned.map(p => [p.index, p.mount.containerPath, p.image.metadata.id]), [[1, '/vol', data.metadata.id], [2, '/by-id', data.metadata.id]]);
    assert.deepEqual(plan({ containerPath: '/host', hostPath: '/tmp' }), []);
  });

  it('refuses an image that is not stored with NotFound naming the image and the mount', () => {
    assert.throws(() => plan(volume({ image: { image: 'registry.test/absent:1' } })), (e: Error) =>
      e instanceof NotFoundError && e.message.includes('"registry.test/absent:1"') && e.message.includes('mounts[0] at "/vol"'));
  });

  it('refuses a host path, a writable mount, an empty reference and a sub path that is absolute or climbs', () => {
    const refused = (m: PartialMessage<cri.Mount>, field: string) => assert.throws(() => plan(m), (e: Error) =>
      e instanceof InvalidArgumentError && e.message.includes(field) && e.message.includes('"/vol"'));
    refused(volume({ hostPath: '/tmp' }), 'host_path');
    refused(volume({ readonly: false }), 'readonly');
    refused(volume({ image: { image: '' } }), 'image.image');
    refused(volume({ imageSubPath: '/etc' }), 'image_sub_path');
    refused(volume({ imageSubPath: 'a/../../etc' }), 'image_sub_path');
    assert.equal(plan(volume({ imageSubPath: 'a/b..c/./d' })).length, 1);
  });
});
