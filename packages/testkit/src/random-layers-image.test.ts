import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { randomLayersImage } from './random-layers-image.js';
import { readTar } from './tar-reader.js';

const sha256 = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

describe('randomLayersImage', () => {
  it('builds layers of incompressible content with correct digests and diff_ids', async () => {
    const size = 3 * 1024 * 1024 + 123; // not a whole number of chunks or tar blocks
    const image = await randomLayersImage({ layers: 3, bytesPerLayer: size, seed: 'fixed' });
    assert.equal(image.layers.length, 3);
    const config = JSON.parse(image.config.data.toString('utf8'));
    const contents = await Promise.all(image.layers.map(async (layer, i) => {
      assert.equal(layer.digest, sha256(layer.data));
      assert.equal(layer.size, layer.data.length);
      const tar = gunzipSync(layer.data);
      assert.equal(config.rootfs.diff_ids[i], sha256(tar));
      const file = (await readTar(tar)).find(e => e.path === `data/layer-${i}.bin`);
      assert.equal(file?.size, size);
      // Random bytes do not compress: gzip can only add its framing.
      assert.ok(layer.size >= size, `layer ${i} compressed to ${layer.size} < ${size}`);
      return file.data;
    }));
    assert.notDeepEqual(contents[0], contents[1]);
    assert.equal(new Set(image.layers.map(l => l.digest)).size, 3);
  });

  it('gives the same digests for the same seed and different ones otherwise', async () => {
    const opts = { layers: 2, bytesPerLayer: 100_000 };
    const a = await randomLayersImage({ ...opts, seed: 's1' });
    const b = await randomLayersImage({ ...opts, seed: 's1' });
    const c = await randomLayersImage(opts);
    assert.equal(a.manifest.digest, b.manifest.digest);
    assert.notEqual(a.layers[0]!.digest, c.layers[0]!.digest);
  });

  it('refuses a bad layer count or size', async () => {
    await assert.rejects(randomLayersImage({ layers: 0 }), RangeError);
    await assert.rejects(randomLayersImage({ bytesPerLayer: -1 }), RangeError);
  });
});
