// `pnpm bench`: every side-by-side benchmark (crikit against containerd's own CRI plugin, each in its own
// process), one after the other, then one table of every operation (p50, p90, ratio crikit/containerd). The
// table is printed, written with the machine it ran on as JSON under bench-results/, and put into README.md
// between its bench-table markers.
//
//   node test/dist/bench/all.js [--only pods,containers,...] [--quick] [--no-readme]                (needs root)
//
// `--quick` runs each benchmark with fewer samples (a smoke run; its figures are not for the README, so it
// implies --no-readme). A benchmark that fails is named in the output and the JSON; the others still run.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { recordEnv, type BenchRecord } from './bench-record.js';
import { markdownTable, replaceReadmeTable, textTable } from './bench-summary.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');

/** Each benchmark with its full and its quick arguments, in the order they run. */
const benchmarks: Readonly<Record<string, { full: readonly string[]; quick: readonly string[] }>> = {
  pods: { full: [], quick: ['--pods', '4', '--concurrent', '4', '--rounds', '1', '--hold', '10', '--scratch', '4'] },
  containers: { full: [], quick: ['--containers', '4', '--listed', '10', '--list-calls', '4'] },
  images: { full: [], quick: ['--rounds', '2', '--images', '3'] },
  exec: { full: [], quick: ['--calls', '10', '--runs', '1', '--mib', '10'] },
  stats: { full: [], quick: ['--pods', '2', '--per-pod', '2', '--calls', '4'] },
  pull: { full: [], quick: ['--runs', '1'] },
};

/** What the machine is, for the JSON and the README. */
function machine(): Record<string, string | number> {
  const version = (cmd: string): string => {
    try {
      return execFileSync(cmd, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0]!.trim();
    } catch {
      return `${cmd} unknown`;
    }
  };
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
    containerd: version('containerd'),
    runc: version('runc'),
  };
}

function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number | null> {
  return new Promise(resolve => {
    const child = spawn(process.execPath, [file, ...args], { stdio: 'inherit', env });
    child.once('exit', code => resolve(code));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' }, quick: { type: 'boolean' }, 'no-readme': { type: 'boolean' } } });
  const names = values.only ? values.only.split(',') : Object.keys(benchmarks);
  const unknown = names.filter(n => !(n in benchmarks));
  if (unknown.length > 0) throw new Error(`--only: unknown benchmark ${unknown.join(', ')} (known: ${Object.keys(benchmarks).join(', ')})`);
  if (process.getuid?.() !== 0) throw new Error('pnpm bench needs root (netns, mounts, cgroups, bridges)');

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'crikit-bench-'));
  const recordFile = path.join(tmp, 'records.jsonl');
  const failed: string[] = [];
  const began = new Date();
  try {
    for (const name of names) {
      process.stderr.write(`\n=== bench:${name} ===\n`);
      const spec = benchmarks[name]!;
      const code = await run(path.join(here, `${name}.js`), values.quick ? spec.quick : spec.full, { ...process.env, [recordEnv]: recordFile });
      if (code !== 0) failed.push(`${name} (exit ${code})`);
    }
    const records: BenchRecord[] = existsSync(recordFile)
      ? readFileSync(recordFile, 'utf8').split('\n').filter(Boolean).map(l => JSON.parse(l) as BenchRecord)
      : [];
    const about = machine();
    const line = `${about.cpus} × ${about.cpuModel}, ${about.memoryGiB} GiB, Linux ${about.kernel}, ${about.containerd}, Node ${about.node}`;
    process.stdout.write(`\nall benchmarks (ms unless named; ratio = crikit/containerd)\n${textTable(records)}\n${line}\n`);
    if (failed.length > 0) process.stdout.write(`FAILED: ${failed.join(', ')}\n`);

    const resultsDir = path.join(root, 'bench-results');
    mkdirSync(resultsDir, { recursive: true });
    const stamp = began.toISOString().replace(/[:.]/g, '-');
    const jsonFile = path.join(resultsDir, `${stamp}${values.quick ? '-quick' : ''}.json`);
    writeFileSync(jsonFile, `${JSON.stringify({ date: began.toISOString(), quick: values.quick ?? false, machine: about, failed, records }, null, 2)}\n`);
    process.stdout.write(`written ${path.relative(root, jsonFile)}\n`);

    if (!values.quick && !values['no-readme'] && failed.length === 0) {
      const readme = path.join(root, 'README.md');
      const body = `Measured ${began.toISOString().slice(0, 10)} on ${line} (\`pnpm bench\`; ${path.relative(root, jsonFile)}).\n\n${markdownTable(records)}`;
      writeFileSync(readme, replaceReadmeTable(readFileSync(readme, 'utf8'), body));
      process.stdout.write('README.md table updated\n');
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (failed.length > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
