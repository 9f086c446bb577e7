import { z } from 'zod';
import { criConfigSchema } from './cri-config.js';

type JsonSchema = { type?: string | string[]; default?: unknown; description?: string; enum?: unknown[]; properties?: Record<string, JsonSchema>; items?: JsonSchema; anyOf?: JsonSchema[] };

/** The config reference as a Markdown table, generated from the zod schema (the README embeds it). */
export function configReference(): string {
  const root = z.toJSONSchema(criConfigSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const rows = ['| key | type | default | meaning |', '| --- | --- | --- | --- |'];
  const walk = (schema: JsonSchema, at: string[]): void => {
    for (const [key, prop] of Object.entries(schema.properties ?? {})) {
      const p = [...at, key];
      if (prop.properties) { walk(prop, p); continue; }
      rows.push(`| \`${p.join('.')}\` | ${typeOf(prop)} | ${defaultOf(p, prop)} | ${(prop.description ?? '').replace(/\|/g, '\\|')} |`);
    }
  };
  walk(root, []);
  return rows.join('\n');
}

function typeOf(p: JsonSchema): string {
  if (p.enum) return p.enum.map(v => `\`${String(v)}\``).join(' \\| ');
  if (p.type === 'array') return `${p.items?.type ?? 'any'}[]`;
  if (p.anyOf) return p.anyOf.map(typeOf).join(' \\| ');
  return Array.isArray(p.type) ? p.type.join(' \\| ') : (p.type ?? 'any');
}

function defaultOf(at: string[], p: JsonSchema): string {
  if (p.default === undefined) return '';
  if (at[at.length - 1]?.endsWith('Mode') && typeof p.default === 'number') return `\`0o${p.default.toString(8)}\``;
  return `\`${JSON.stringify(p.default)}\``;
}
