import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { deadline } from '@crikit/core';

/** What a real run of a runtime binary showed, feature by feature. */
export interface RuntimeProbeResult {
  /** The probe container's init ran in a new user namespace with the mappings asked for. */
  readonly userNamespace: boolean;
  /** A bind mount with `uidMappings`/`gidMappings` showed a host file through those mappings. */
  readonly idmapMounts: boolean;
  /** An `rro` bind made a submount of its source read-only too. */
  readonly recursiveReadOnlyMounts: boolean;
  /** Why a feature was not seen, by feature. */
  readonly failures: Readonly<Partial<Record<ProbedFeature, string>>>;
  /** How long the probe took, containers made and removed. */
  readonly ms: number;
}
/** The features the probe checks, named as in `OciRuntimeFeatures`. */
export type ProbedFeature = 'userNamespace' | 'idmapMounts' | 'recursiveReadOnlyMounts';

/** The probe's user namespace: container ids 0-65535 on host ids from 2^31, which no pod range of a kubelet reaches. */
const HOST_ID = 2 ** 31;
const RANGE = 65536;
/** The owner of the probe's file on the host; an idmapped mount shows it as the same ids inside. */
const FILE_UID = 4242;
const FILE_GID = 4343;
const IDS = { rro: 'crikit-probe-rro', userns: 'crikit-probe-userns' } as const;
const cleanupTimeoutMs = 10_000;

/**
 * Runs an OCI runtime binary (crun's command line: `--root`, `--cgroup-manager=disabled`, `create`,
 * `state`, `delete --force`) on two throwaway containers that are created but never started, and
 * looks at them from the host through /proc/<init pid>:
 * - one in a new user namespace (0-65535 on 2^31…) with an idmapped bind of `dir/data`, whose file
 *   owned by 4242:4343 must show as 2^31+4242:2^31+4343 from the host (the same ids inside);
 * - one with an `rro` bind of `dir/src`, on whose `sub` a tmpfs is mounted first in a private mount
 *   namespace (`unshare`), so nothing is mounted on the host: writing into `sub` must fail EROFS.
 * `dir` is made afresh (a leftover of an earlier run, its containers too, is removed first) and removed
 * afterwards. Never rejects for what the binary does: a failure is reported per feature.
 * @throws only when `signal` fires (after cleaning up) or `dir` cannot be made
 */
export async function probeOciRuntime(binary: string, dir: string, signal: AbortSignal): Promise<RuntimeProbeResult> {
  const started = performance.now();
  const pids: number[] = [];
  await removeProbe(binary, dir, pids);
  try {
    const rootfs = await makeBundleFiles(dir);
    const failures: Partial<Record<ProbedFeature, string>> = {};
    const userns = await usernsProbe(binary, dir, rootfs, pids, signal).catch(err => {
      const why = reason(err, signal);
      return { userNamespace: why, idmapMounts: why };
    });
    if (userns.userNamespace !== true) failures.userNamespace = userns.userNamespace;
    if (userns.idmapMounts !== true) failures.idmapMounts = userns.idmapMounts;
    const rro = await rroProbe(binary, dir, rootfs, pids, signal).catch(err => reason(err, signal));
    if (rro !== true) failures.recursiveReadOnlyMounts = rro;
    return {
      userNamespace: failures.userNamespace === undefined,
      idmapMounts: failures.idmapMounts === undefined,
      recursiveReadOnlyMounts: failures.recursiveReadOnlyMounts === undefined,
      failures,
      ms: Math.round(performance.now() - started),
    };
  } finally {
    await removeProbe(binary, dir, pids);
  }
}

/** Why a probe step failed, as the reason for the features it covers; rethrows when the probe was cancelled. */
function reason(err: unknown, signal: AbortSignal): string {
  if (signal.aborted) throw signal.reason;
  return (err as Error).message;
}

/** `dir/rootfs` (owned by the namespace's root, with the mount points and an empty executable), `dir/data/file`, `dir/src/sub`. */
async function makeBundleFiles(dir: string): Promise<string> {
  const rootfs = path.join(dir, 'rootfs');
  for (const d of ['dev', 'idm', 'rro']) await fs.mkdir(path.join(rootfs, d), { recursive: true });
  // crun looks the process up at create; it is never started.
  await fs.writeFile(path.join(rootfs, 'true'), '', { mode: 0o755 });
  for (const p of ['', 'dev', 'idm', 'rro', 'true']) await fs.chown(path.join(rootfs, p), HOST_ID, HOST_ID);
  await fs.mkdir(path.join(dir, 'data'));
  await fs.writeFile(path.join(dir, 'data', 'file'), 'probe\n');
  await fs.chown(path.join(dir, 'data', 'file'), FILE_UID, FILE_GID);
  await fs.mkdir(path.join(dir, 'src', 'sub'), { recursive: true });
  return rootfs;
}

const mapping = [{ containerID: 0, hostID: HOST_ID, size: RANGE }];

/**
 * A config.json in `dir/<id>` for a container that is created, inspected and deleted, never started.
 * Each has a pid namespace of its own: without one and without a cgroup, crun 1.8.1's `delete --force`
 * left the init running (it kills through the cgroup).
 */
async function writeBundle(dir: string, id: string, rootfs: string, mounts: object[], linux: object): Promise<string> {
  const bundle = path.join(dir, id);
  await fs.mkdir(bundle);
  const config = {
    ociVersion: '1.0.2',
    process: { args: ['/true'], cwd: '/', user: { uid: 0, gid: 0 } },
    // Relative to the bundle, which crun enters first: the namespace's root then needs no search permission on the dirs above.
    root: { path: path.relative(bundle, rootfs) },
    mounts: [{ destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755', 'size=64k'] }, ...mounts],
    linux,
  };
  await fs.writeFile(path.join(bundle, 'config.json'), JSON.stringify(config));
  return bundle;
}

/** Checks the user namespace and the idmapped bind: true, or why not. */
async function usernsProbe(binary: string, dir: string, rootfs: string, pids: number[], signal: AbortSignal): Promise<{ userNamespace: true | string; idmapMounts: true | string }> {
  const bundle = await writeBundle(dir, IDS.userns, rootfs, [
    { destination: '/idm', type: 'bind', source: path.join(dir, 'data'), options: ['rbind', 'rprivate', 'ro'], uidMappings: mapping, gidMappings: mapping },
  ], { namespaces: [{ type: 'user' }, { type: 'mount' }, { type: 'pid' }], uidMappings: mapping, gidMappings: mapping });
  const pid = await create(binary, dir, IDS.userns, [binary, ...runtimeArgs(dir, bundle, IDS.userns)], signal);
  pids.push(pid);
  const maps = await Promise.all(['uid_map', 'gid_map'].map(f => fs.readFile(`/proc/${pid}/${f}`, 'utf8').then(t => t.trim().split(/\s+/).join(' '))));
  const want = `0 ${HOST_ID} ${RANGE}`;
  const userNamespace = maps.every(m => m === want) || `the probe's maps were "${maps.join('", "')}", not "${want}"`;
  const st = await fs.stat(`/proc/${pid}/root/idm/file`).catch((err: Error) => err);
  if (st instanceof Error) return { userNamespace, idmapMounts: `the file in a bind with uid/gid mappings: ${st.message}` };
  const seen = `${st.uid}:${st.gid}`;
  const idmapMounts = seen === `${HOST_ID + FILE_UID}:${HOST_ID + FILE_GID}`
    || `a file owned by ${FILE_UID}:${FILE_GID} showed as ${seen} in a bind with uid/gid mappings, not as ${HOST_ID + FILE_UID}:${HOST_ID + FILE_GID}`;
  return { userNamespace, idmapMounts };
}

/** Checks that an `rro` bind makes its source's submount read-only: true, or why not. */
async function rroProbe(binary: string, dir: string, rootfs: string, pids: number[], signal: AbortSignal): Promise<true | string> {
  const src = path.join(dir, 'src');
  const bundle = await writeBundle(dir, IDS.rro, rootfs, [
    { destination: '/rro', type: 'bind', source: src, options: ['rbind', 'rprivate', 'rro'] },
  ], { namespaces: [{ type: 'mount' }, { type: 'pid' }] });
  // The submount exists only in unshare's mount namespace, which the container's is copied from.
  const script = 'mount -t tmpfs -o size=64k crikit-probe "$1" && shift && exec "$@"';
  const argv = ['unshare', '--mount', '--propagation', 'private', '/bin/sh', '-c', script, 'sh', path.join(src, 'sub'), binary, ...runtimeArgs(dir, bundle, IDS.rro)];
  const pid = await create(binary, dir, IDS.rro, argv, signal);
  pids.push(pid);
  const root = `/proc/${pid}/root/rro`;
  const [top, sub] = await Promise.all([fs.stat(root), fs.stat(`${root}/sub`)]);
  if (top.dev === sub.dev) return 'the rro bind lost its source\'s submount';
  try {
    await fs.writeFile(`${root}/sub/written`, '', { flag: 'wx' });
    return 'a submount of an rro bind stayed writable';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'EROFS' || `writing into a submount of an rro bind failed ${code ?? (err as Error).message}, not EROFS`;
  }
}

const runtimeArgs = (dir: string, bundle: string, id: string): string[] =>
  ['--root', path.join(dir, 'state'), '--cgroup-manager=disabled', 'create', '--bundle', bundle, id];

/**
 * Runs `argv` (a `create`), then reads the container's init pid from `<binary> state`.
 * The container's init keeps what it inherits open, so stdout is not read and stderr goes to a file.
 * @throws Error with the runtime's last stderr line when the create fails
 */
async function create(binary: string, dir: string, id: string, argv: string[], signal: AbortSignal): Promise<number> {
  const errFile = path.join(dir, `${id}.stderr`);
  const err = await fs.open(errFile, 'w');
  let code: number | null;
  try {
    code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', err.fd], signal });
      child.once('error', reject);
      child.once('exit', c => resolve(c));
    });
  } finally {
    await err.close();
  }
  if (code !== 0) {
    const last = (await fs.readFile(errFile, 'utf8')).trim().split('\n').at(-1) ?? '';
    throw new Error(`${binary} create: exit status ${code}${last ? `: ${last}` : ''}`);
  }
  const out = await run(binary, ['--root', path.join(dir, 'state'), 'state', id], `${binary} state`, signal);
  const pid = (JSON.parse(out) as { pid?: unknown }).pid;
  if (typeof pid !== 'number' || pid <= 0) throw new Error(`${binary} state: no pid for the probe container`);
  return pid;
}

/** The standard output of `file args`; @throws Error saying `what` failed, with the last stderr line */
function run(file: string, args: string[], what: string, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { signal, encoding: 'utf8', maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${what}: ${stderr.trim().split('\n').at(-1) || err.message}`, { cause: err }));
      else resolve(stdout);
    });
  });
}

/**
 * Deletes the probe's containers (their inits are killed) and its dir, if there; then SIGKILLs any of
 * `pids` still running the probe's `create` (its command line names `dir`). Never throws.
 */
async function removeProbe(binary: string, dir: string, pids: readonly number[]): Promise<void> {
  const state = path.join(dir, 'state');
  const exists = await fs.stat(state).then(() => true, () => false);
  if (exists) {
    const limit = deadline([], cleanupTimeoutMs);
    try {
      for (const id of Object.values(IDS)) await run(binary, ['--root', state, 'delete', '--force', id], `${binary} delete`, limit.signal).catch(() => undefined);
    } finally {
      limit.dispose();
    }
  }
  for (const pid of pids) {
    const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(dir)) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
    }
  }
  await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
}
