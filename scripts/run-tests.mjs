#!/usr/bin/env node
// Runs the compiled tests with node's test runner in one invocation, so one summary closes the run.
//   --unit          only unit tests (packages/*/dist/**/*.test.js, not *.integration.test.js)
//   --integration   only integration tests (test/dist/integration/** and *.integration.test.js)
// Extra arguments that are not flags filter test files by substring.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const only = args.includes('--unit') ? 'unit' : args.includes('--integration') ? 'integration' : 'all';
const filters = args.filter(a => !a.startsWith('--'));

function walk(dir, out = []) {
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() && e.name !== 'node_modules') walk(p, out);
    else if (e.isFile() && e.name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const files = [
  ...fs.readdirSync(path.join(root, 'packages')).flatMap(p => walk(path.join(root, 'packages', p, 'dist'))),
  ...walk(path.join(root, 'test', 'dist')),
].filter(f => {
  const integration = f.endsWith('.integration.test.js') || f.includes(`${path.sep}test${path.sep}dist${path.sep}`);
  if (only === 'unit' && integration) return false;
  if (only === 'integration' && !integration) return false;
  return filters.length === 0 || filters.some(s => f.includes(s));
}).sort();

if (files.length === 0) {
  console.error('no test files found: run `pnpm build` first');
  process.exit(1);
}
const rel = files.map(f => path.relative(root, f));
const res = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=600000', ...rel], { cwd: root, stdio: 'inherit' });
process.exit(res.status ?? 1);
