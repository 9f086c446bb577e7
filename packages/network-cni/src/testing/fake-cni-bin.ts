import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** One recorded plugin invocation: its CNI_* environment and the config it read on stdin. */
export interface FakeCniCall {
  readonly plugin: string;
  readonly command: string;
  /** '<unset>' when the variable was not in the environment. */
  readonly containerId: string;
  readonly netns: string;
  readonly ifName: string;
  readonly args: string;
  readonly path: string;
  readonly stdin: Record<string, unknown>;
}

/**
 * What a fake plugin does per CNI command: a shell snippet run after the call is recorded (it may
 * `echo` a result or an error object and `exit 1`). Commands without a snippet print nothing and exit 0.
 */
export type FakeCniBehaviour = Partial<Record<'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC' | 'VERSION', string>>;

/**
 * A temp dir of fake CNI plugins: small POSIX shell scripts that record each call (env and stdin)
 * to a log dir and then do what the test says. For unit tests of plugin execution.
 */
export class FakeCniBin {
  private constructor(
    /** The temp dir holding everything. */
    readonly root: string,
    /** The bin dir to put in `binDirs`. */
    readonly binDir: string,
    private readonly logDir: string,
  ) {}

  /** Makes the temp dirs. */
  static async create(): Promise<FakeCniBin> {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'crikit-fake-cni-'));
    const bin = path.join(root, 'bin');
    const log = path.join(root, 'log');
    await fs.mkdir(bin);
    await fs.mkdir(log);
    return new FakeCniBin(root, bin, log);
  }

  /** Writes (or replaces) the plugin `name`, in `binDir` unless another dir is given. */
  async plugin(name: string, behaviour: FakeCniBehaviour = {}, dir = this.binDir): Promise<string> {
    const cases = Object.entries(behaviour).map(([cmd, sh]) => `  ${cmd})\n${sh}\n  ;;`).join('\n');
    const script = `#!/bin/sh
stdin=$(cat)
printf '{"plugin":"%s","command":"%s","containerId":"%s","netns":"%s","ifName":"%s","args":"%s","path":"%s","stdin":%s}\\n' \\
  '${name}' "$CNI_COMMAND" "\${CNI_CONTAINERID-<unset>}" "\${CNI_NETNS-<unset>}" "\${CNI_IFNAME-<unset>}" "\${CNI_ARGS-<unset>}" "$CNI_PATH" "$stdin" \\
  > "${this.logDir}/$(date +%s%N)-$$"
case "$CNI_COMMAND" in
${cases}
esac
exit 0
`;
    const file = path.join(dir, name);
    await fs.writeFile(file, script, { mode: 0o755 });
    return file;
  }

  /** Every call so far, in the order they began (calls made at once may come in either order). */
  async calls(): Promise<FakeCniCall[]> {
    const names = (await fs.readdir(this.logDir)).sort();
    return Promise.all(names.map(async n => JSON.parse(await fs.readFile(path.join(this.logDir, n), 'utf8')) as FakeCniCall));
  }

  /** Forgets the recorded calls. */
  async clearCalls(): Promise<void> {
    for (const n of await fs.readdir(this.logDir)) await fs.rm(path.join(this.logDir, n));
  }

  /** Removes the temp dir. */
  async cleanup(): Promise<void> {
    await fs.rm(this.root, { recursive: true, force: true });
  }
}

/** A CNI 1.0.0 result with one pod interface `eth0` in `netns` and the given addresses on it. */
export function fakeCniResult(netns: string, addresses: readonly string[], cniVersion = '1.0.0'): Record<string, unknown> {
  return {
    cniVersion,
    interfaces: [{ name: 'cni0', mac: '0a:00:00:00:00:01' }, { name: 'eth0', mac: '0a:00:00:00:00:02', sandbox: netns }],
    ips: addresses.map(address => ({ interface: 1, address })),
  };
}
