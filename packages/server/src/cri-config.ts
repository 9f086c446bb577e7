import { z } from 'zod';
import { parse as parseToml } from 'smol-toml';
import fs from 'node:fs';
import { cgroupConfigSchema, InvalidArgumentError, pathsConfigSchema, runtimesConfigSchema } from '@crikit/core';
import { sandboxConfigSchema } from '@crikit/sandbox';
import { containerConfigSchema } from '@crikit/container';
import { loggingConfigSchema } from '@crikit/logging';
import { containerdConfigSchema } from '@crikit/containerd';
import { imageConfigSchema } from '@crikit/image';
import { networkCniConfigSchema } from '@crikit/network-cni';
import { streamingConfigSchema } from '@crikit/streaming';
import { metricsConfigSchema } from '@crikit/metrics';
import { tracingConfigSchema } from '@crikit/tracing';
import { serverConfigSchema } from './server-config.js';

/** The whole crikit config: one section per package, every key defaulted. */
export const criConfigSchema = z.strictObject({
  server: serverConfigSchema.prefault({}),
  paths: pathsConfigSchema.prefault({}),
  cgroup: cgroupConfigSchema.prefault({}),
  containerd: containerdConfigSchema.prefault({}),
  image: imageConfigSchema.prefault({}),
  sandbox: sandboxConfigSchema.prefault({}),
  runtimes: runtimesConfigSchema.prefault({}),
  container: containerConfigSchema.prefault({}),
  logging: loggingConfigSchema.prefault({}),
  cni: networkCniConfigSchema.prefault({}),
  streaming: streamingConfigSchema.prefault({}),
  metrics: metricsConfigSchema.prefault({}),
  tracing: tracingConfigSchema.prefault({}),
});
export type CriConfig = z.infer<typeof criConfigSchema>;
/** What a config file may say: every key optional. */
export type CriConfigInput = z.input<typeof criConfigSchema>;

/**
 * Validates a config object and fills every default. Pure.
 * Unknown keys are refused at every level, so a typo never passes silently.
 * @returns the config, and warnings for deprecated keys
 * @throws InvalidArgumentError naming the key path and the reason
 */
export function parseCriConfig(input: unknown): { config: CriConfig; warnings: string[] } {
  const res = criConfigSchema.safeParse(input ?? {});
  if (!res.success) {
    const issues = res.error.issues.map(i => `${i.path.length ? i.path.join('.') : '(top level)'}: ${issueMessage(i)}`);
    throw new InvalidArgumentError(`invalid config: ${issues.join('; ')}`);
  }
  // No key is deprecated yet; a renamed key will add a warning here.
  return { config: res.data, warnings: [] };
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
