import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { configReference } from './config-reference.js';

const readme = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../README.md');

test('the README config reference is the one the schema generates (pnpm docs:config rewrites it)', () => {
  const text = fs.readFileSync(readme, 'utf8');
  const m = /<!-- config-reference:start -->\n([\s\S]*?)\n<!-- config-reference:end -->/.exec(text);
  assert.ok(m, 'README has no config reference block');
  assert.equal(m[1], configReference());
});

test('the reference lists every section key with its default', () => {
  const ref = configReference();
  assert.match(ref, /\| `server\.socket` \| string \| `"\/run\/crikit\/crikit\.sock"` \|/);
  assert.match(ref, /\| `cgroup\.driver` \| `cgroupfs` \\\| `systemd` \| `"cgroupfs"` \|/);
  assert.match(ref, /\| `server\.socketMode` \| integer \| `0o660` \|/);
});
