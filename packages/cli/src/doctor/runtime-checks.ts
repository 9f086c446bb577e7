import fs from 'node:fs';
import path from 'node:path';
import type { CheckResult, Host } from './host.js';
import type { DoctorOptions } from './doctor-options.js';

/** The oldest containerd crikit drives (its gRPC API as of 1.6). */
const minContainerd = [1, 6] as const;

/** CNI plugins a default bridge network needs, and what each is for. */
const cniPlugins: Readonly<Record<string, string>> = { bridge: 'pod network', 'host-local': 'pod IPs', loopback: 'pod lo', portmap: 'hostPort' };

/** containerd: the managed binary and its version, or the socket of an external one. */
export function checkContainerd(host: Host, options: DoctorOptions): CheckResult {
  const name = 'containerd';
  if (options.containerdAddress !== 'managed') {
    const ok = fs.existsSync(options.containerdAddress);
    return ok ? { name, status: 'ok', required: true, detail: `socket ${options.containerdAddress}` }
      : { name, status: 'missing', required: true, detail: `no socket at ${options.containerdAddress}`, fix: 'start containerd, or set containerd.address = "managed"' };
  }
  const bin = host.which(options.containerdBinary);
  if (bin === undefined) {
    return { name, status: 'missing', required: true, detail: `"${options.containerdBinary}" not found`, fix: 'apt-get install containerd' };
  }
  const out = host.run(bin, ['--version']);
  const m = /\bv?(\d+)\.(\d+)\.(\d+)\S*/.exec(out.stdout);
  if (out.status !== 0 || m === null) {
    return { name, status: 'missing', required: true, detail: `${bin} --version failed: ${firstLine(out.stderr || out.stdout)}`, fix: 'reinstall containerd (apt-get install --reinstall containerd)' };
  }
  const [major, minor] = [Number(m[1]), Number(m[2])];
  const tooOld = major < minContainerd[0] || (major === minContainerd[0] && minor < minContainerd[1]);
  return tooOld
    ? { name, status: 'missing', required: true, detail: `${bin} ${m[0]} is older than ${minContainerd.join('.')}`, fix: 'install containerd 1.6 or newer' }
    : { name, status: 'ok', required: true, detail: `${bin} ${m[0]}` };
}

/** The OCI runtimes the handlers use: present, and `<runtime> features` answers. */
export function checkRuntimes(host: Host, options: DoctorOptions): CheckResult[] {
  return options.runtimeBinaries.map(binary => {
    const name = `runtime ${path.basename(binary)}`;
    const bin = host.which(binary);
    if (bin === undefined) return { name, status: 'missing', required: true, detail: `"${binary}" not found`, fix: `apt-get install ${path.basename(binary)}` };
    const out = host.run(bin, ['features']);
    if (out.status !== 0) {
      const why = firstLine(out.stderr || out.stdout);
      const version = host.run(bin, ['--version']);
      // crun before 1.8.6: crikitd derives its features from the release and a probe at start-up.
      if (version.status === 0 && /^crun version /.test(version.stdout)) {
        return { name, status: 'ok', required: true,
          detail: `${bin} ${firstLine(version.stdout)}, no features command: crikitd takes its features from the release and checks them by a run at start-up (verbose Status)` };
      }
      // Older runc (before 1.1) runs containers but cannot say which OCI features it has.
      return version.status === 0
        ? { name, status: 'missing', required: false, detail: `${bin} ${firstLine(version.stdout)}, but features failed: ${why}`,
          fix: `a ${path.basename(binary)} release with the features command (runc 1.1 or newer); until then crikit cannot report its OCI features` }
        : { name, status: 'missing', required: true, detail: `${bin} does not run: ${why}`, fix: `reinstall ${path.basename(binary)} (apt-get install --reinstall ${path.basename(binary)})` };
    }
    const seccomp = seccompOf(out.stdout);
    return { name, status: 'ok', required: true, detail: `${bin}, features answers${seccomp === undefined ? '' : `, seccomp ${seccomp ? 'built in' : 'not built in'}`}` };
  });
}

/** crun is optional: a second OCI runtime a handler may name. */
export function checkCrun(host: Host): CheckResult {
  const bin = host.which('crun');
  return bin !== undefined
    ? { name: 'runtime crun', status: 'ok', required: false, detail: bin }
    : { name: 'runtime crun', status: 'missing', required: false, detail: 'not found (optional second runtime)', fix: 'apt-get install crun' };
}

/** The CNI plugins a bridge network uses, searched in the configured bin dirs. */
export function checkCniPlugins(host: Host, options: DoctorOptions): CheckResult {
  const found = new Map<string, string>();
  for (const plugin of Object.keys(cniPlugins)) {
    const dir = options.cniBinDirs.find(d => host.which(path.join(d, plugin)) !== undefined);
    if (dir !== undefined) found.set(plugin, dir);
  }
  const missing = Object.keys(cniPlugins).filter(p => !found.has(p));
  const dirs = [...new Set(found.values())].join(', ');
  return missing.length === 0
    ? { name: 'cni plugins', status: 'ok', required: true, detail: `${Object.keys(cniPlugins).join(', ')} in ${dirs}` }
    : { name: 'cni plugins', status: 'missing', required: true,
      detail: `${missing.map(p => `${p} (${cniPlugins[p]})`).join(', ')} not in ${options.cniBinDirs.join(', ')}`,
      fix: 'apt-get install containernetworking-plugins (installs to /usr/lib/cni), or set cni.binDirs' };
}

/** The CNI conf dir: pods get no network until it holds a config (the kubelet or cni.confTemplate may write one). */
export function checkCniConfDir(options: DoctorOptions): CheckResult {
  const name = 'cni conf dir';
  let files: string[];
  try {
    files = fs.readdirSync(options.cniConfDir).filter(f => /\.(conflist|conf|json)$/.test(f)).sort();
  } catch {
    return { name, status: 'missing', required: false, detail: `${options.cniConfDir} does not exist`, fix: `mkdir -p ${options.cniConfDir} and add a .conflist (or set cni.confTemplate)` };
  }
  return files.length > 0
    ? { name, status: 'ok', required: false, detail: `${options.cniConfDir}: ${files.join(', ')}` }
    : { name, status: 'missing', required: false, detail: `${options.cniConfDir} holds no network config`, fix: 'add a .conflist there (or set cni.confTemplate); NetworkReady stays false until then' };
}

function seccompOf(featuresJson: string): boolean | undefined {
  try {
    const enabled = (JSON.parse(featuresJson) as { linux?: { seccomp?: { enabled?: unknown } } }).linux?.seccomp?.enabled;
    return typeof enabled === 'boolean' ? enabled : undefined;
  } catch {
    return undefined;
  }
}

function firstLine(s: string): string {
  return s.trim().split('\n')[0] ?? '';
}
