import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { pauseImage } from './pause-image.js';
import { readTar } from './tar-reader.js';

describe('pauseImage', () => {
  it('runs the host catatonit as /pause -P with user 65535', async () => {
    const image = await pauseImage();
    const config = JSON.parse(image.config.data.toString('utf8'));
    assert.deepEqual(config.config, { User: '65535:65535', Entrypoint: ['/pause', '-P'] });
    const entries = await readTar(gunzipSync(image.layers[0]!.data));
    assert.deepEqual(entries.map(e => [e.path, e.type, e.mode]), [['pause', 'file', 0o755]]);
    assert.deepEqual(entries[0]!.data, readFileSync('/usr/bin/catatonit'));
  });

  it('is deterministic', async () => {
    assert.equal((await pauseImage()).manifest.digest, (await pauseImage()).manifest.digest);
  });

  it('names catatonit when the binary is missing', async () => {
    await assert.rejects(pauseImage({ catatonitPath: '/nonexistent/catatonit' }), /install catatonit/);
  });
});
