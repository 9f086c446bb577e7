#!/usr/bin/env node
// Runs every example under examples/ as a user outside the workspace would: packs the @crikit/*
// packages (as scripts/pack-check.mjs does, plus the private @crikit/testkit, which examples use for
// their local registry and images), copies each example to a temp dir, points its @crikit/*
// dependencies at the tarballs (`file:` specs, and npm `overrides` so that packages pulled in by
// other packages come from the tarballs too, never from a registry), installs with npm (third-party
// dependencies from the npm registry, cache first) and runs `npm test`.
//   After the install, every @crikit/* in the tree must come from a tarball, once, at the top level.
// Usage: node scripts/examples-check.mjs [--keep] [name-substring...]   (run `pnpm build` first)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const keep = args.includes('--keep');
const filters = args.filter(a => !a.startsWith('--'));
const DEP_FIELDS = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'];

function run(cmd, argv, opts = {}) {
  const res = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (res.error) throw res.error;
  return res;
}

function mustRun(what, cmd, argv, opts) {
  const res = run(cmd, argv, opts);
  if (res.status !== 0) {
    console.error(`${what} failed (exit ${res.status}):\n${res.stdout}\n${res.stderr}`);
    process.exit(1);
  }
  return res.stdout;
}

const readJson = file => JSON.parse(fs.readFileSync(file, 'utf8'));

// The packages to pack: every publishable one, and testkit (private, but examples test with it).
const packages = fs.readdirSync(path.join(root, 'packages'))
  .map(d => path.join(root, 'packages', d, 'package.json'))
  .filter(f => fs.existsSync(f))
  .map(readJson)
  .filter(m => !m.private || m.name === '@crikit/testkit');
const examples = fs.readdirSync(path.join(root, 'examples'), { withFileTypes: true })
  .filter(e => e.isDirectory() && fs.existsSync(path.join(root, 'examples', e.name, 'package.json')))
  .map(e => e.name)
  .filter(name => filters.length === 0 || filters.some(f => name.includes(f)))
  .sort();
if (examples.length === 0) {
  console.error(`no example matches ${filters.join(', ')}`);
  process.exit(1);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'crikit-examples-'));
const tarDir = path.join(tmp, 'tarballs');
fs.mkdirSync(tarDir);
const started = Date.now();
mustRun('pnpm pack', 'pnpm', ['-r', ...packages.flatMap(m => ['--filter', m.name]), 'pack', '--pack-destination', tarDir], { cwd: root });
/** @crikit/* name → absolute tarball path. */
const tarballs = new Map();
for (const m of packages) {
  const tgz = path.join(tarDir, `${m.name.replace(/^@/, '').replace('/', '-')}-${m.version}.tgz`);
  if (!fs.existsSync(tgz)) {
    console.error(`pnpm pack made no ${path.basename(tgz)}`);
    process.exit(1);
  }
  tarballs.set(m.name, tgz);
}
console.log(`packed ${tarballs.size} packages in ${((Date.now() - started) / 1000).toFixed(1)}s into ${tarDir}`);

/** Copies an example without its build output and installed modules. */
function copyExample(from, to) {
  fs.cpSync(from, to, {
    recursive: true,
    filter: src => !['node_modules', 'dist'].includes(path.basename(src)),
  });
}

/** Rewrites the copied manifest: @crikit/* from the tarballs; fails on any other workspace: spec. */
function pointAtTarballs(dir) {
  const file = path.join(dir, 'package.json');
  const manifest = readJson(file);
  for (const field of DEP_FIELDS) {
    for (const [dep, spec] of Object.entries(manifest[field] ?? {})) {
      if (tarballs.has(dep)) manifest[field][dep] = `file:${tarballs.get(dep)}`;
      else if (String(spec).startsWith('workspace:')) throw new Error(`${manifest.name}: ${field} ${dep} is ${spec}, but no tarball has that name`);
    }
  }
  // Packages that other packages depend on (server → sandbox → core…) resolve to the tarballs as well.
  manifest.overrides = Object.fromEntries([...tarballs].map(([name, tgz]) => [name, `file:${tgz}`]));
  fs.writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Every @crikit/* in the installed tree: from a tarball, at the top level only. */
function checkInstalled(dir) {
  const problems = [];
  const lock = readJson(path.join(dir, 'package-lock.json'));
  for (const [where, entry] of Object.entries(lock.packages ?? {})) {
    const m = /(?:^|\/)node_modules\/(@crikit\/[^/]+)$/.exec(where);
    if (!m) continue;
    if (where !== `node_modules/${m[1]}`) problems.push(`${m[1]} installed a second time at ${where}`);
    if (!String(entry.resolved ?? '').startsWith('file:')) problems.push(`${m[1]} installed from ${entry.resolved}, not from its tarball`);
  }
  for (const name of fs.existsSync(path.join(dir, 'node_modules', '@crikit')) ? fs.readdirSync(path.join(dir, 'node_modules', '@crikit')) : []) {
    const real = fs.realpathSync(path.join(dir, 'node_modules', '@crikit', name));
    if (!real.startsWith(dir)) problems.push(`@crikit/${name} is a link to ${real}, not an installed copy`);
  }
  return problems;
}

const results = [];
for (const name of examples) {
  const dir = path.join(tmp, name);
  const t0 = Date.now();
  console.log(`\n== ${name}: installing from the tarballs in ${dir}`);
  copyExample(path.join(root, 'examples', name), dir);
  pointAtTarballs(dir);
  const install = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir });
  if (install.status !== 0) {
    results.push({ name, ok: false, why: `npm install exited ${install.status}:\n${install.stdout}${install.stderr}` });
    continue;
  }
  const problems = checkInstalled(dir);
  if (problems.length > 0) {
    results.push({ name, ok: false, why: problems.join('\n') });
    continue;
  }
  console.log(`== ${name}: npm test`);
  const test = run('npm', ['test'], { cwd: dir, stdio: 'inherit' });
  results.push({ name, ok: test.status === 0, why: `npm test exited ${test.status}`, seconds: (Date.now() - t0) / 1000 });
}

if (!keep) fs.rmSync(tmp, { recursive: true, force: true });
console.log('');
for (const r of results) console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name}${r.ok ? ` (${r.seconds.toFixed(1)}s)` : `: ${r.why}`}`);
if (results.some(r => !r.ok)) {
  console.error(`examples check FAILED${keep ? ` (kept ${tmp})` : ''}`);
  process.exit(1);
}
console.log(`examples check passed from packed tarballs: ${results.map(r => r.name).join(', ')} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
