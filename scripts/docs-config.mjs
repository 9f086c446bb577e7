#!/usr/bin/env node
// Rewrites the README's config reference from the zod schema (after `pnpm build`).
import fs from 'node:fs';
import { configReference } from '../packages/server/dist/config-reference.js';
const file = new URL('../README.md', import.meta.url);
const text = fs.readFileSync(file, 'utf8');
const next = text.replace(/(<!-- config-reference:start -->\n)[\s\S]*?(\n<!-- config-reference:end -->)/, `$1${configReference()}$2`);
fs.writeFileSync(file, next);
console.log(next === text ? 'README config reference unchanged' : 'README config reference updated');
