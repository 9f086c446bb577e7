import { decodeOciImageConfig, FailedPreconditionError, type OciImageConfig } from '@crikit/core';
import type { Descriptor } from './image-manifest.js';

/**
 * The largest image config a pull accepts. A config is JSON metadata (env, entrypoint, history,
 * diff ids) of a few KiB; twice containerd's 4 MiB manifest limit leaves room for long histories
 * while a manifest that names a huge "config" cannot make crikitd buffer it.
 */
export const MAX_IMAGE_CONFIG_BYTES = 8 * 1024 * 1024;

// application/json, and every structured +json type (OCI and Docker image configs among them).
const JSON_MEDIA_TYPE = /^application\/(?:json|[\w.+-]+\+json)$/;

/**
 * Refuses a config descriptor before anything is downloaded: a media type that is not JSON (an
 * artifact, a layer put in the config slot) or a size above `MAX_IMAGE_CONFIG_BYTES`.
 * @throws FailedPreconditionError naming the config and the reason
 */
export function checkConfigDescriptor(desc: Descriptor, doing: string): void {
  if (!JSON_MEDIA_TYPE.test(desc.mediaType)) {
    throw new FailedPreconditionError(`${doing}: config ${desc.digest} has media type "${desc.mediaType}", not a JSON image config`);
  }
  if (!Number.isSafeInteger(desc.size) || desc.size < 0 || desc.size > MAX_IMAGE_CONFIG_BYTES) {
    throw new FailedPreconditionError(`${doing}: config ${desc.digest} is ${desc.size} bytes, more than the ${MAX_IMAGE_CONFIG_BYTES} allowed`);
  }
}

/**
 * Decodes config bytes as an OCI image config.
 * @throws FailedPreconditionError when the bytes are too many, not JSON, or not an image config
 */
export function parseImageConfigBlob(bytes: Buffer, digest: string, doing: string): OciImageConfig {
  if (bytes.length > MAX_IMAGE_CONFIG_BYTES) {
    throw new FailedPreconditionError(`${doing}: config ${digest} is ${bytes.length} bytes, more than the ${MAX_IMAGE_CONFIG_BYTES} allowed`);
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new FailedPreconditionError(`${doing}: config ${digest} is not JSON`, { cause: err });
  }
  try {
    return decodeOciImageConfig(json);
  } catch (err) {
    throw new FailedPreconditionError(`${doing}: config ${digest} is not an image config: ${(err as Error).message}`, { cause: err });
  }
}
