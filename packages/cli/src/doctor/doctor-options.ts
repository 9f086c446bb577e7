import fs from 'node:fs';
import { parse } from 'smol-toml';

/** The crikitd settings the doctor needs; defaults match crikitd's own (see README's configuration table). */
export interface DoctorOptions {
  /** containerd binary (PATH name or absolute); checked when containerd is managed. */
  readonly containerdBinary: string;
  /** "managed", or the socket of a containerd crikitd connects to. */
  readonly containerdAddress: string;
  /** Binaries of the runtime handlers (runc unless configured otherwise). */
  readonly runtimeBinaries: readonly string[];
  readonly cniConfDir: string;
  readonly cniBinDirs: readonly string[];
  /** runtimes.restrictOomScoreAdj: crikitd already copes with a missing CAP_SYS_RESOURCE. */
  readonly restrictOomScoreAdj: boolean;
}

export const defaultDoctorOptions: DoctorOptions = {
  containerdBinary: 'containerd',
  containerdAddress: 'managed',
  runtimeBinaries: ['runc'],
  cniConfDir: '/etc/cni/net.d',
  cniBinDirs: ['/opt/cni/bin', '/usr/lib/cni'],
  restrictOomScoreAdj: false,
};

/**
 * Reads the keys the doctor uses from a crikitd TOML config. The file is not validated here (crikitd does that
 * at start-up); a key of the wrong type keeps its default.
 * @throws Error naming the file when it cannot be read or is not TOML
 */
export function readDoctorOptions(file: string): DoctorOptions {
  let doc: Record<string, unknown>;
  try {
    doc = parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`read config "${file}": ${(err as Error).message}`, { cause: err });
  }
  const section = (name: string): Record<string, unknown> => asRecord(doc[name]);
  const containerd = section('containerd');
  const cni = section('cni');
  const runtimes = section('runtimes');
  const d = defaultDoctorOptions;
  // The runc shim runs `runc` unless a handler names another binary.
  const handlers = [...new Set(Object.values(asRecord(runtimes.handlers)).map(h => str(asRecord(h).binaryName) ?? 'runc'))];
  return {
    containerdBinary: str(asRecord(containerd.managed).binary) ?? d.containerdBinary,
    containerdAddress: str(containerd.address) ?? d.containerdAddress,
    runtimeBinaries: handlers.length > 0 ? handlers : d.runtimeBinaries,
    cniConfDir: str(cni.confDir) ?? d.cniConfDir,
    cniBinDirs: Array.isArray(cni.binDirs) && cni.binDirs.every(x => typeof x === 'string') ? cni.binDirs : d.cniBinDirs,
    restrictOomScoreAdj: typeof runtimes.restrictOomScoreAdj === 'boolean' ? runtimes.restrictOomScoreAdj : d.restrictOomScoreAdj,
  };
}

function asRecord(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : {};
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
