import fs from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { writeTar, type BuiltImage, type TarEntry } from '@crikit/testkit';

const hex = (digest: string): string => digest.replace(/^sha256:/, '');

/** Writes `image` as `docker save` would: manifest.json, the config, and uncompressed layer tars. */
export async function writeDockerSave(file: string, image: BuiltImage, repoTags: string[]): Promise<void> {
  const layers = image.layers.map((l, i) => ({ path: `${hex(image.diffIds[i]!)}/layer.tar`, data: gunzipSync(l.data) }));
  const entries: TarEntry[] = [
    { type: 'file', path: 'manifest.json', data: JSON.stringify([{ Config: `${hex(image.config.digest)}.json`, RepoTags: repoTags, Layers: layers.map(l => l.path) }]) },
    { type: 'file', path: `${hex(image.config.digest)}.json`, data: image.config.data },
    ...layers.map((l): TarEntry => ({ type: 'file', path: l.path, data: l.data })),
  ];
  fs.writeFileSync(file, await writeTar(entries));
}

/** Writes `image` as an OCI image layout tar, named `name` in index.json. */
export async function writeOciLayout(file: string, image: BuiltImage, name: string): Promise<void> {
  const blobs = [image.manifest, image.config, ...image.layers];
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{
      mediaType: image.manifest.mediaType, digest: image.manifest.digest, size: image.manifest.size,
      annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name.split(':').pop()! },
    }],
  };
  fs.writeFileSync(file, await writeTar([
    { type: 'file', path: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
    { type: 'file', path: 'index.json', data: JSON.stringify(index) },
    ...blobs.map((b): TarEntry => ({ type: 'file', path: `blobs/sha256/${hex(b.digest)}`, data: b.data })),
  ]));
}
