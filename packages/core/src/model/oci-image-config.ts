import { z } from 'zod';
import { InvalidArgumentError } from '../errors.js';

// Docker-built images write `null` for absent lists and maps ("Cmd": null); read null as absent.
const optionalStrings = z.array(z.string()).nullish().transform(v => v ?? undefined);
const optionalString = z.string().nullish().transform(v => v ?? undefined);
const optionalStringMap = z.record(z.string(), z.string()).nullish().transform(v => v ?? undefined);
// `ExposedPorts` and `Volumes` are sets written as maps to empty objects: {"80/tcp": {}}.
const optionalSet = z.record(z.string(), z.looseObject({})).nullish().transform(v => v ?? undefined);

/** The `config` object of an image config: the defaults a container's process inherits. */
const processDefaultsSchema = z.object({
  User: optionalString,
  ExposedPorts: optionalSet,
  Env: optionalStrings,
  Entrypoint: optionalStrings,
  Cmd: optionalStrings,
  Volumes: optionalSet,
  WorkingDir: optionalString,
  Labels: optionalStringMap,
  StopSignal: optionalString,
});

/**
 * The part of an OCI image config (`application/vnd.oci.image.config.v1+json`) that crikit uses:
 * the process defaults a container inherits, the platform, and the layer diff ids (for chain ids).
 * Unknown keys (history, created, author, …) are accepted and dropped.
 */
export const ociImageConfigSchema = z.object({
  architecture: z.string(),
  os: z.string(),
  variant: optionalString,
  config: processDefaultsSchema.nullish().transform(v => v ?? processDefaultsSchema.parse({})),
  rootfs: z.object({
    type: z.string(),
    diff_ids: z.array(z.string()),
  }).nullish().transform(v => v ?? undefined),
});

/** The parsed OCI image config (see `ociImageConfigSchema`); `config` is always present, possibly empty. */
export type OciImageConfig = z.output<typeof ociImageConfigSchema>;

/**
 * Parses an image config document (already JSON-decoded).
 * @throws InvalidArgumentError naming every problem when it is not an image config
 */
export function decodeOciImageConfig(input: unknown): OciImageConfig {
  const parsed = ociImageConfigSchema.safeParse(input);
  if (!parsed.success) throw new InvalidArgumentError(`decode image config: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
