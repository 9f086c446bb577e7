#!/usr/bin/env node
// Packs every publishable @crikit/* package as `pnpm publish` would, checks each tarball, then installs the
// tarballs into a fresh project outside the workspace and loads every entry point from there.
//   Each tarball: no compiled tests, test fixtures, spec checks or .tsbuildinfo; main, types, bin and every
//   exports target is a file in it; no `workspace:` specifier is left; @crikit/* dependencies carry a
//   caret or tilde range (not a pin) that the packed sibling satisfies, and name only publishable packages.
//   The install: `npm install` of all tarballs (third-party dependencies from the registry, cache first),
//   then `import()` of every exports subpath, the types of every subpath compiled with tsc, and each bin run
//   with --help.
// Usage: node scripts/pack-check.mjs [--keep]   (run `pnpm build` first; --keep leaves the temp dir)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const keep = process.argv.includes('--keep');
const errors = [];
const fail = (pkg, msg) => errors.push(`${pkg}: ${msg}`);

/** Files a published package must not carry: compiled or source tests, fixtures, spec checks, build caches. */
const FORBIDDEN = [
  [/\.test\.[^/]*$/, 'a test'],
  [/-fixtures\.[^/]*$/, 'a test fixture'],
  [/\.check\.[^/]*$/, 'a spec check'],
  [/(^|\/)\.tsbuildinfo$|\.tsbuildinfo$/, 'a build cache'],
];
const DEP_FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies'];

function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (res.error) throw res.error;
  return res;
}

function mustRun(what, cmd, args, opts) {
  const res = run(cmd, args, opts);
  if (res.status !== 0) {
    console.error(`${what} failed (exit ${res.status}):\n${res.stdout}\n${res.stderr}`);
    process.exit(1);
  }
  return res.stdout;
}

/** Every string target in an exports value (conditions objects, arrays, null for blocked subpaths). */
function exportTargets(value, out = []) {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) value.forEach(v => exportTargets(v, out));
  else if (value && typeof value === 'object') Object.values(value).forEach(v => exportTargets(v, out));
  return out;
}

/** Public subpaths of a package: '.' and each './x' key of exports without a pattern. */
function subpaths(manifest) {
  const exp = manifest.exports;
  if (exp === undefined) return ['.'];
  if (typeof exp === 'string' || Array.isArray(exp) || !Object.keys(exp).some(k => k.startsWith('.'))) return ['.'];
  return Object.keys(exp).filter(k => !k.includes('*') && exportTargets(exp[k]).length > 0);
}

/** Whether `version` satisfies `range` for the forms a packed workspace dependency takes: ^x.y.z, ~x.y.z, x.y.z. */
function satisfies(version, range) {
  const m = /^([\^~]?)(\d+)\.(\d+)\.(\d+)$/.exec(range);
  const v = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!m || !v) return false;
  const [want, have] = [m.slice(2).map(Number), v.slice(1).map(Number)];
  const cmp = have[0] - want[0] || have[1] - want[1] || have[2] - want[2];
  if (cmp < 0) return false;
  if (m[1] === '') return cmp === 0;
  if (m[1] === '~') return have[0] === want[0] && have[1] === want[1];
  // caret: the left-most non-zero part is fixed
  if (want[0] > 0) return have[0] === want[0];
  if (want[1] > 0) return have[0] === 0 && have[1] === want[1];
  return have[0] === 0 && have[1] === 0 && have[2] === want[2];
}

// The workspace packages, read from their sources.
const workspace = fs.readdirSync(path.join(root, 'packages'))
  .map(d => path.join(root, 'packages', d))
  .filter(d => fs.existsSync(path.join(d, 'package.json')))
  .map(dir => ({ dir, manifest: JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) }));
const publishable = workspace.filter(p => !p.manifest.private);
const versions = new Map(publishable.map(p => [p.manifest.name, p.manifest.version]));
const privateNames = new Set(workspace.filter(p => p.manifest.private).map(p => p.manifest.name));

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'crikit-pack-'));
const tarDir = path.join(tmp, 'tarballs');
fs.mkdirSync(tarDir);
const started = Date.now();

// One recursive pnpm pack (it rewrites workspace: specifiers as publish does); tarballs are named scope-name-version.tgz.
mustRun('pnpm pack', 'pnpm', ['-r', ...publishable.flatMap(p => ['--filter', p.manifest.name]), 'pack', '--pack-destination', tarDir], { cwd: root });
const packed = [];
for (const { manifest } of publishable) {
  const name = manifest.name;
  const tgz = path.join(tarDir, `${name.replace(/^@/, '').replace('/', '-')}-${manifest.version}.tgz`);
  if (!fs.existsSync(tgz)) { fail(name, `pnpm pack made no ${path.basename(tgz)}`); continue; }
  const files = new Set(mustRun(`tar tzf ${path.basename(tgz)}`, 'tar', ['tzf', tgz]).split('\n').filter(Boolean)
    .map(f => f.replace(/^package\//, '')));
  const packedManifest = JSON.parse(mustRun(`reading ${path.basename(tgz)}`, 'tar', ['xzfO', tgz, 'package/package.json']));
  packed.push({ name, tgz, manifest: packedManifest });

  for (const f of files) {
    const bad = FORBIDDEN.find(([re]) => re.test(f));
    if (bad) fail(name, `ships ${bad[1]}: ${f}`);
  }
  if (![...files].some(f => f.endsWith('.js'))) fail(name, 'ships no JavaScript (was it built?)');

  const entries = [];
  for (const field of ['main', 'types', 'typings', 'module']) {
    if (typeof packedManifest[field] === 'string') entries.push([field, packedManifest[field]]);
  }
  const bin = typeof packedManifest.bin === 'string' ? { [name]: packedManifest.bin } : packedManifest.bin ?? {};
  for (const [cmd, target] of Object.entries(bin)) entries.push([`bin ${cmd}`, target]);
  for (const t of exportTargets(packedManifest.exports)) entries.push(['exports', t]);
  for (const [field, target] of entries) {
    const rel = path.posix.normalize(target).replace(/^\.\//, '');
    if (target.includes('*')) {
      const re = new RegExp(`^${rel.split('*').map(s => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.+')}$`);
      if (![...files].some(f => re.test(f))) fail(name, `${field} pattern ${target} matches no file in the tarball`);
    } else if (!files.has(rel)) {
      fail(name, `${field} ${target} is not in the tarball`);
    }
  }
  for (const cmd of Object.keys(bin)) {
    const rel = path.posix.normalize(bin[cmd]).replace(/^\.\//, '');
    const head = run('tar', ['xzfO', tgz, `package/${rel}`]).stdout.slice(0, 2);
    if (files.has(rel) && head !== '#!') fail(name, `bin ${cmd} (${bin[cmd]}) has no #! line`);
  }

  for (const field of [...DEP_FIELDS, 'devDependencies']) {
    for (const [dep, spec] of Object.entries(packedManifest[field] ?? {})) {
      if (String(spec).startsWith('workspace:')) fail(name, `${field} ${dep} is still ${spec}`);
      if (field === 'devDependencies' || !dep.startsWith('@crikit/')) continue;
      if (privateNames.has(dep)) { fail(name, `${field} ${dep} is a private package`); continue; }
      const have = versions.get(dep);
      if (!have) fail(name, `${field} ${dep} is not a workspace package`);
      else if (!/^[\^~]/.test(spec)) fail(name, `${field} ${dep} is pinned to "${spec}": give it a range (workspace:^)`);
      else if (!satisfies(have, spec)) fail(name, `${field} ${dep} is "${spec}", not a range that ${dep}@${have} satisfies`);
    }
  }
}
console.log(`packed ${packed.length} packages in ${((Date.now() - started) / 1000).toFixed(1)}s into ${tarDir}`);

// A fresh project outside the workspace, installing the tarballs as a user would.
if (errors.length === 0) {
  const project = path.join(tmp, 'project');
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'package.json'),
    JSON.stringify({ name: 'crikit-pack-check', version: '0.0.0', private: true, type: 'module' }, null, 2));
  const t0 = Date.now();
  const install = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error',
    ...packed.map(p => path.relative(project, p.tgz))], { cwd: project });
  if (install.status !== 0) {
    fail('npm install', `exit ${install.status}\n${install.stdout}\n${install.stderr}`);
  } else {
    console.log(`installed the tarballs into ${project} in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    for (const p of packed) {
      const target = fs.realpathSync(path.join(project, 'node_modules', p.name));
      if (!target.startsWith(project)) fail(p.name, `installed as a link to ${target}, not from its tarball`);
    }
    // Every @crikit/* in the tree came from a tarball, once: a registry copy or a nested second copy of
    // core would mean DI tokens that do not match.
    const lock = JSON.parse(fs.readFileSync(path.join(project, 'package-lock.json'), 'utf8'));
    for (const [where, entry] of Object.entries(lock.packages ?? {})) {
      const m = /(?:^|\/)node_modules\/(@crikit\/[^/]+)$/.exec(where);
      if (!m) continue;
      if (where !== `node_modules/${m[1]}`) fail(m[1], `installed a second time at ${where}`);
      if (!String(entry.resolved ?? '').startsWith('file:')) fail(m[1], `installed from ${entry.resolved}, not from its tarball`);
    }
    const specs = packed.flatMap(p => subpaths(p.manifest).map(s => (s === '.' ? p.name : `${p.name}/${s.slice(2)}`)));
    // Runtime: every entry point loads.
    const loader = `for (const s of ${JSON.stringify(specs)}) {
      try { await import(s); console.log('imported ' + s); }
      catch (e) { console.error('cannot import ' + s + ': ' + (e && e.stack || e)); process.exitCode = 1; }
    }`;
    const load = run(process.execPath, ['--input-type=module', '-e', loader], { cwd: project });
    process.stdout.write(load.stdout);
    if (load.status !== 0) fail('import', load.stderr.trim());
    // Types: every entry point's declarations resolve and compile for a NodeNext consumer.
    fs.writeFileSync(path.join(project, 'check.ts'),
      specs.map((s, i) => `import * as m${i} from '${s}';\nexport { m${i} };\n`).join(''));
    fs.writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2023'], strict: true,
        noEmit: true, skipLibCheck: true, experimentalDecorators: true,
        types: ['node'], typeRoots: [path.join(root, 'node_modules', '@types')],
      },
      files: ['check.ts'],
    }, null, 2));
    const tsc = run(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: project });
    if (tsc.status !== 0) fail('types', `tsc on the installed packages:\n${tsc.stdout}${tsc.stderr}`);
    else console.log(`types of ${specs.length} entry points compile`);
    // Bins: each runs from node_modules/.bin and answers --help.
    for (const p of packed) {
      const bin = typeof p.manifest.bin === 'string' ? { [p.name.split('/').pop()]: p.manifest.bin } : p.manifest.bin ?? {};
      for (const cmd of Object.keys(bin)) {
        const res = run(path.join(project, 'node_modules', '.bin', cmd), ['--help'], { cwd: project, timeout: 30_000 });
        if (res.status !== 0) fail(p.name, `bin ${cmd} --help exited ${res.status}: ${res.stderr.trim()}`);
        else console.log(`ran ${cmd} --help`);
      }
    }
  }
}

if (!keep) fs.rmSync(tmp, { recursive: true, force: true });
if (errors.length > 0) {
  console.error(`pack check FAILED (${errors.length}):\n  ${errors.join('\n  ')}`);
  process.exit(1);
}
console.log(`pack check passed: ${packed.map(p => p.name).join(', ')} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
