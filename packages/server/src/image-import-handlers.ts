import fs from 'node:fs/promises';
import path from 'node:path';
import { inject, injectable } from 'inversify';
import type { crikit, PartialMessage } from '@crikit/api';
import { InvalidArgumentError, PathsConfig, ResourceExhaustedError } from '@crikit/core';
import { ImageImporter } from '@crikit/image';
import type { CriHandlerGroup } from './cri-handler-group.js';
import type { CrikitImagesHandlers } from './crikit-images-service.js';

/** The largest archive ImportImage takes (16 GiB); more is refused with RESOURCE_EXHAUSTED while it arrives. */
export const maxImportArchiveBytes = 16 * 1024 ** 3;
/** The longest archive name a client may send (a file name, for messages). */
const maxNameLength = 255;
/** Imports running at once; more are refused with RESOURCE_EXHAUSTED rather than filling the disk. */
const maxConcurrentImports = 2;

/**
 * ImportImage (crikit.v1.Images): the archive's chunks are written to a private file under
 * `<rootDir>/imports` (the importer reads an archive twice), imported like `ctr images import`,
 * and the file is removed whatever happens.
 */
@injectable()
export class ImageImportHandlers implements CriHandlerGroup {
  private running = 0;
  private swept: Promise<void> | undefined;

  constructor(
    @inject(ImageImporter) private readonly importer: ImageImporter,
    @inject(PathsConfig) private readonly paths: PathsConfig,
  ) {}

  crikitImages(): CrikitImagesHandlers {
    return { importImage: (chunks, signal) => this.importChunks(chunks, signal) };
  }

  private async importChunks(chunks: AsyncIterable<crikit.ImportImageChunk>, signal: AbortSignal): Promise<PartialMessage<crikit.ImportImageResponse>> {
    if (this.running >= maxConcurrentImports) throw new ResourceExhaustedError(`import image: ${maxConcurrentImports} imports already run; try again when one ends`);
    this.running++;
    const dir = path.join(this.paths.rootDir, 'imports');
    let tmp: string | undefined;
    try {
      // Before this crikitd's first import, whatever is there was left by one that stopped mid-import.
      this.swept ??= fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
      await this.swept;
      await fs.mkdir(dir, { recursive: true, mode: 0o700 });
      tmp = await fs.mkdtemp(path.join(dir, 'import-'));
      const file = path.join(tmp, 'archive.tar');
      const name = await receive(chunks, file);
      try {
        const records = await this.importer.import(file, signal);
        return { images: records.map(r => ({ id: r.metadata.id, repoTags: [...r.status.repoTags] })) };
      } catch (err) {
        // The importer names the file it read; the client knows the archive by its own name.
        if (err instanceof Error) err.message = err.message.replaceAll(file, name);
        throw err;
      }
    } finally {
      this.running--;
      if (tmp) await fs.rm(tmp, { recursive: true, force: true });
    }
  }
}

/**
 * Writes the chunks to `file`, checking each and the running size.
 * @returns the archive's name from the first chunk
 * @throws InvalidArgumentError for a missing or bad name, a bad chunk, or no bytes; ResourceExhaustedError past the cap
 */
async function receive(chunks: AsyncIterable<crikit.ImportImageChunk>, file: string): Promise<string> {
  const out = await fs.open(file, 'wx', 0o600);
  let name: string | undefined;
  let size = 0;
  try {
    for await (const chunk of chunks) {
      // A message that did not decode is not a chunk (see define-service.ts).
      if (!(chunk?.data instanceof Uint8Array)) throw new InvalidArgumentError('import image: a chunk is not an ImportImageChunk');
      if (name === undefined) name = checkName(chunk.name);
      else if (chunk.name !== '' && chunk.name !== name) throw new InvalidArgumentError(`import archive "${name}": name is set on the first chunk only, a later chunk says "${chunk.name}"`);
      size += chunk.data.length;
      if (size > maxImportArchiveBytes) throw new ResourceExhaustedError(`import archive "${name}": larger than ${maxImportArchiveBytes} bytes`);
      await out.write(chunk.data);
    }
  } finally {
    await out.close();
  }
  if (name === undefined) throw new InvalidArgumentError('import image: no chunk was sent');
  if (size === 0) throw new InvalidArgumentError(`import archive "${name}": the archive is empty`);
  return name;
}

function checkName(name: string): string {
  if (name === '') throw new InvalidArgumentError('name is required on the first chunk');
  if (name.length > maxNameLength) throw new InvalidArgumentError(`name is longer than ${maxNameLength} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new InvalidArgumentError('name holds control characters');
  return name;
}
