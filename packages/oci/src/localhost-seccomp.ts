import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { InvalidArgumentError, NotFoundError } from '@crikit/core';
import type { OciSeccomp } from './oci-spec.js';

const action = z.enum([
  'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY',
]);
const operator = z.enum([
  'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ',
]);
const uint = z.number().int().nonnegative();
// Profiles written for docker use `null` for absent lists; read it as absent.
const optional = <T extends z.ZodType>(schema: T) => schema.nullish().transform(v => v ?? undefined);

const syscallSchema = z.object({
  // docker's format also allows a single `name`; containerd reads only `names`, and so do we.
  names: z.array(z.string().min(1)).min(1),
  action,
  errnoRet: optional(uint),
  args: optional(z.array(z.object({ index: uint, value: uint, valueTwo: optional(uint), op: operator }))),
});

/**
 * A seccomp profile file in the OCI `linux.seccomp` form (what containerd reads for a Localhost
 * profile). Keys of docker's format that the OCI form lacks (`archMap`, `includes`, `excludes`,
 * `comment`) are accepted and dropped, as containerd's JSON decoding drops them.
 */
export const seccompProfileSchema = z.object({
  defaultAction: action,
  defaultErrnoRet: optional(uint),
  architectures: optional(z.array(z.string().regex(/^SCMP_ARCH_[A-Z0-9_]+$/))),
  flags: optional(z.array(z.string())),
  listenerPath: optional(z.string()),
  listenerMetadata: optional(z.string()),
  syscalls: optional(z.array(syscallSchema)),
});

/**
 * Decodes a seccomp profile (the text of a profile file) into `linux.seccomp`.
 * @param source names the profile in error messages (its path)
 * @throws InvalidArgumentError when the text is not JSON or not a seccomp profile
 */
export function parseSeccompProfile(text: string, source = 'seccomp profile'): OciSeccomp {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`decode seccomp profile ${source}: not JSON`, { cause: err });
  }
  const parsed = seccompProfileSchema.safeParse(json);
  if (!parsed.success) throw new InvalidArgumentError(`decode seccomp profile ${source}: ${z.prettifyError(parsed.error)}`);
  // Rebuild without the undefined keys zod leaves behind, so the spec stays minimal.
  return JSON.parse(JSON.stringify(parsed.data)) as OciSeccomp;
}

/**
 * Reads and validates a Localhost seccomp profile: the CRI's `SecurityProfile.localhost_ref`
 * (the kubelet sends an absolute path under its seccomp root) or the old `localhost/<path>` form.
 * @throws NotFoundError when the file does not exist, InvalidArgumentError when it is not a profile
 */
export async function loadLocalhostSeccompProfile(path: string): Promise<OciSeccomp> {
  const file = path.startsWith('localhost/') ? path.slice('localhost/'.length) : path;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`seccomp profile "${file}" not found`, { cause: err });
    throw new InvalidArgumentError(`read seccomp profile "${file}"`, { cause: err });
  }
  return parseSeccompProfile(text, `"${file}"`);
}
