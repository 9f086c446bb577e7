import type { cri } from '@crikit/api';
import { InvalidArgumentError, type OciImageConfig } from '@crikit/core';
import { clampOomScoreAdj, DEFAULT_PATH_ENV, mergeEnv, type OciProcess } from '@crikit/oci';
import type { ContainerSpecOptions } from './container-spec-input.js';

/**
 * The argv of a container, with the rules kubelet expects (containerd's `WithProcessArgs`, from
 * moby): a CRI `command` replaces the image's Entrypoint and drops its Cmd; CRI `args` replace
 * the Cmd; with neither, the image's Entrypoint and Cmd. An Entrypoint of `[""]` counts as none.
 * @throws InvalidArgumentError when that leaves nothing to run
 */
export function containerArgs(config: cri.ContainerConfig, image: OciImageConfig): string[] {
  let command = [...config.command];
  let args = [...config.args];
  if (command.length === 0) {
    if (args.length === 0) args = [...(image.config.Cmd ?? [])];
    const entrypoint = image.config.Entrypoint ?? [];
    // moby: `ENTRYPOINT [""]` resets the entrypoint.
    if (!(entrypoint.length === 1 && entrypoint[0] === '')) command = [...entrypoint];
  }
  const argv = [...command, ...args];
  if (argv.length === 0) throw new InvalidArgumentError(`container "${config.metadata?.name ?? ''}": no command specified`);
  return argv;
}

/**
 * The environment of a container, in containerd's order: the default PATH, `TERM=xterm` for a tty,
 * `HOSTNAME` (the pod's hostname, else the node's), then the image's Env, then the CRI's envs;
 * a later entry replaces an earlier one with the same key in place, so the image's PATH wins over
 * the default and the CRI wins over the image.
 */
export function containerEnv(
  config: cri.ContainerConfig, image: OciImageConfig, podHostname: string, nodeHostname: string,
): string[] {
  const base = [DEFAULT_PATH_ENV];
  // containerd: `WithTTY` adds TERM before the image and CRI envs are applied.
  const tty = config.tty ? ['TERM=xterm'] : [];
  const hostname = [`HOSTNAME=${podHostname !== '' ? podHostname : nodeHostname}`];
  // CRI env values are bytes on the wire; the spec holds strings.
  const cri = config.envs.map(kv => `${kv.key}=${Buffer.from(kv.value).toString('utf8')}`);
  return mergeEnv(base, tty, hostname, image.config.Env ?? [], cri);
}

/** The working directory: the CRI's, else the image's WorkingDir, else `/`. */
export function containerCwd(config: cri.ContainerConfig, image: OciImageConfig): string {
  return config.workingDir || image.config.WorkingDir || '/';
}

/**
 * The container's oom_score_adj: the CRI's, clamped to crikit's own under `restrictOomScoreAdj`;
 * undefined (inherit) when the config has no resources.
 */
export function containerOomScoreAdj(config: cri.ContainerConfig, options: ContainerSpecOptions): number | undefined {
  const resources = config.linux?.resources;
  if (!resources) return undefined;
  const adj = Number(resources.oomScoreAdj);
  return options.restrictOomScoreAdj ? clampOomScoreAdj(adj, options.ownOomScoreAdj) : adj;
}

/** What `containerProcess` needs from the sandbox and node. */
export interface ProcessContext {
  readonly image: OciImageConfig;
  readonly podHostname: string;
  readonly options: ContainerSpecOptions;
}

/**
 * The process fields that come from the command, env and terminal settings: args, env, cwd,
 * terminal, oomScoreAdj and rlimits. User, capabilities, no_new_privs and AppArmor are set by the
 * user and security parts of the builder.
 * @throws InvalidArgumentError when there is nothing to run, or a string the kernel cannot take
 */
export function containerProcess(config: cri.ContainerConfig, context: ProcessContext): Omit<OciProcess, 'user'> {
  const { image, options } = context;
  checkProcessStrings(config);
  const oomScoreAdj = containerOomScoreAdj(config, options);
  return {
    terminal: config.tty,
    args: containerArgs(config, image),
    env: containerEnv(config, image, context.podHostname, options.nodeHostname),
    cwd: containerCwd(config, image),
    ...(oomScoreAdj !== undefined ? { oomScoreAdj } : {}),
    // containerd: the CRI drops the default RLIMIT_NOFILE 1024 (containerd#515) unless configured.
    ...(options.rlimits?.length ? { rlimits: options.rlimits.map(r => ({ ...r })) } : {}),
  };
}

/**
 * Refuses what runc would refuse only when the container starts, long after CreateContainer said
 * yes: a NUL byte in the command, args or env (the kernel's argv and envp are C strings), an env
 * name that is empty or holds "=", and a relative working_dir (OCI wants an absolute cwd).
 * @throws InvalidArgumentError naming the field
 */
export function checkProcessStrings(config: cri.ContainerConfig): void {
  const name = `container "${config.metadata?.name ?? ''}"`;
  for (const field of ['command', 'args'] as const) {
    const at = config[field].findIndex(a => a.includes('\0'));
    if (at >= 0) throw new InvalidArgumentError(`${name}: ${field}[${at}] contains a NUL byte`);
  }
  config.envs.forEach((kv, i) => {
    if (kv.key === '' || kv.key.includes('=') || kv.key.includes('\0')) throw new InvalidArgumentError(`${name}: envs[${i}].key "${kv.key.replace(/\0/g, '\\0')}" is not a variable name`);
    if (Buffer.from(kv.value).includes(0)) throw new InvalidArgumentError(`${name}: envs[${i}].value contains a NUL byte`);
  });
  if (config.workingDir.includes('\0') || (config.workingDir !== '' && !config.workingDir.startsWith('/'))) {
    throw new InvalidArgumentError(`${name}: working_dir "${config.workingDir.replace(/\0/g, '\\0')}" is not an absolute path`);
  }
}
