import { z } from 'zod';
import { parse as parseToml } from 'smol-toml';
import fs from 'node:fs';
import { cgroupConfigSchema, InvalidArgumentError, pathsConfigSchema } from '@crikit/core';
import { containerdConfigSchema } from '@crikit/containerd';
import { networkCniConfigSchema } from '@crikit/network-cni';
import { serverConfigSchema } from './server-config.js';

/** The whole crikit config: one section per package, every key defaulted. */
export const criConfigSchema = z.strictObject({
  server: serverConfigSchema.prefault({}),
  paths: pathsConfigSchema.prefault({}),
  cgroup: cgroupConfigSchema.prefault({}),
  containerd: containerdConfigSchema.prefault({}),
  cni: networkCniConfigSchema.prefault({}),
});
export type CriConfig = z.infer<typeof criConfigSchema>;
/** What a config file may say: every key optional. */
export type CriConfigInput = z.input<typeof criConfigSchema>;

/**
 * Validates a config object and fills every default. Pure.
 * @returns the config, and warnings for keys crikit does not know inside a section
 * @throws InvalidArgumentError naming the key path and the reason
 */
export function parseCriConfig(input: unknown): { config: CriConfig; warnings: string[] } {
  const res = criConfigSchema.safeParse(input ?? {});
  if (!res.success) {
    const issues = res.error.issues.map(i => `${i.path.length ? i.path.join('.') : '(top level)'}: ${issueMessage(i)}`);
    throw new InvalidArgumentError(`invalid config: ${issues.join('; ')}`);
  }
  return { config: res.data, warnings: unknownKeys(criConfigSchema, input, []) };
}

/**
 * Reads and validates a TOML config file.
 * @throws InvalidArgumentError naming the file, and the key path and reason
 */
export function loadCriConfigFile(file: string): { config: CriConfig; warnings: string[] } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new InvalidArgumentError(`read config ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`, { cause: err });
  }
  let input: unknown;
  try {
    input = parseToml(text);
  } catch (err) {
    throw new InvalidArgumentError(`config ${file}: invalid TOML: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  try {
    return parseCriConfig(input);
  } catch (err) {
    throw new InvalidArgumentError(`config ${file}: ${(err as Error).message.replace(/^invalid config: /, '')}`, { cause: err });
  }
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
  return issue.message.replace(/^Invalid input: /, '').toLowerCase();
}

// Sections are plain objects that drop unknown keys; say so, so that a typo does not pass silently.
function unknownKeys(schema: z.ZodType, input: unknown, at: string[]): string[] {
  const obj = unwrap(schema);
  if (!(obj instanceof z.ZodObject) || typeof input !== 'object' || input === null || Array.isArray(input)) return [];
  const shape = obj.shape as Record<string, z.ZodType>;
  return Object.entries(input).flatMap(([k, v]) => shape[k]
    ? unknownKeys(shape[k], v, [...at, k])
    : [`unknown config key ${[...at, k].join('.')} is ignored`]);
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s: z.ZodType = schema;
  while (s instanceof z.ZodDefault || s instanceof z.ZodPrefault || s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
  return s;
}
