import type { DoctorOptions } from './doctor-options.js';
import type { CheckResult, Host } from './host.js';
import { checkCniConfDir, checkCniPlugins, checkContainerd, checkCrun, checkRuntimes } from './runtime-checks.js';
import { checkAppArmor, checkCapabilities, checkCgroups, checkHybridControllers, checkIdmappedMounts, checkSeccomp, checkUserNamespaces } from './kernel-checks.js';

/** Every check of `crikit doctor`, in the order they are printed. */
export function runDoctor(host: Host, options: DoctorOptions): CheckResult[] {
  return [
    checkContainerd(host, options),
    ...checkRuntimes(host, options),
    ...(options.runtimeBinaries.some(b => b.endsWith('crun')) ? [] : [checkCrun(host)]),
    checkCniPlugins(host, options),
    checkCniConfDir(options),
    checkCgroups(host),
    ...checkHybridControllers(host),
    checkCapabilities(host, options),
    checkAppArmor(host),
    checkSeccomp(host),
    checkUserNamespaces(host),
    checkIdmappedMounts(host),
  ];
}

/** The report as text lines: `ok`/`missing`, the check, what was found, and a `fix:` line under each gap. */
export function formatDoctor(results: readonly CheckResult[]): string {
  const width = Math.max(...results.map(r => r.name.length));
  const lines: string[] = [];
  for (const r of results) {
    const label = r.status === 'ok' ? 'ok     ' : r.required ? 'MISSING' : 'missing';
    lines.push(`${label}  ${r.name.padEnd(width)}  ${r.detail}`);
    if (r.fix !== undefined) lines.push(`${' '.repeat(9 + width)}  fix: ${r.fix}`);
  }
  const gaps = results.filter(r => r.status === 'missing');
  const required = gaps.filter(r => r.required).length;
  lines.push('', `${results.length - gaps.length} ok, ${required} required missing, ${gaps.length - required} optional missing`);
  return lines.join('\n');
}

/** The exit code: 1 when a required check is missing. */
export function doctorExitCode(results: readonly CheckResult[]): number {
  return results.some(r => r.status === 'missing' && r.required) ? 1 : 0;
}
