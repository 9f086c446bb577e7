import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { imageConfigSchema } from './image-config.js';

describe('imageConfigSchema', () => {
  it('supplies every default', () => {
    assert.deepEqual(imageConfigSchema.parse({}), {
      registryConfigDir: '/etc/crikit/certs.d', maxConcurrentDownloads: 3, pullStallTimeoutMs: 60_000, snapshotter: 'overlayfs',
      directContentWrite: true,
    });
  });

  it('refuses relative dirs, non-positive numbers and unknown keys', () => {
    assert.equal(imageConfigSchema.safeParse({ registryConfigDir: 'certs.d' }).success, false);
    assert.equal(imageConfigSchema.safeParse({ maxConcurrentDownloads: 0 }).success, false);
    assert.equal(imageConfigSchema.safeParse({ pullStallTimeoutMs: 1.5 }).success, false);
    assert.equal(imageConfigSchema.safeParse({ sandboxImage: 'pause' }).success, false);
    assert.equal(imageConfigSchema.safeParse({ contentDir: 'var/lib/containerd' }).success, false);
  });

  it('describes every key for the generated config reference; every key but the optional contentDir has a default', () => {
    const schema = z.toJSONSchema(imageConfigSchema, { io: 'input' }) as { properties: Record<string, { description?: string; default?: unknown }> };
    for (const [key, prop] of Object.entries(schema.properties)) {
      assert.ok((prop.description ?? '').length > 10, `${key} has no description`);
      if (key !== 'contentDir') assert.notEqual(prop.default, undefined, `${key} has no default`);
    }
  });
});
