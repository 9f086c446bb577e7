import { readFile } from 'node:fs/promises';

/** A statically linked host executable, read for copying into an image. */
export interface StaticBinary {
  readonly path: string;
  readonly data: Buffer;
  /** The OCI architecture the ELF file was built for (`amd64`, `arm64`, …). */
  readonly architecture: string;
}

const PT_INTERP = 3;

/** ELF `e_machine` values → OCI architecture names (little-endian unless noted). */
const ELF_MACHINES: Readonly<Record<number, string>> = {
  3: '386', 40: 'arm', 62: 'amd64', 183: 'arm64', 21: 'ppc64le', 22: 's390x', 243: 'riscv64', 258: 'loong64',
};

/**
 * Reads `path` and checks that it is an ELF executable with no `PT_INTERP` program header, i.e. one
 * that needs no dynamic loader and so runs inside an image that holds nothing else.
 * @throws Error naming the Debian package to install when the file is missing, not ELF or dynamic
 */
export async function loadStaticBinary(path: string, debianPackage: string): Promise<StaticBinary> {
  const hint = `install ${debianPackage} (apt-get install ${debianPackage})`;
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (err) {
    throw new Error(`read ${path}: ${hint}`, { cause: err });
  }
  const elf = parseElf(data);
  if (elf === undefined) throw new Error(`${path} is not an ELF executable: ${hint}`);
  if (elf.hasInterpreter) throw new Error(`${path} is dynamically linked (it has a PT_INTERP header): ${hint}`);
  return { path, data, architecture: ELF_MACHINES[elf.machine] ?? `elf-machine-${elf.machine}` };
}

interface ElfSummary {
  readonly machine: number;
  readonly hasInterpreter: boolean;
}

/** Reads the ELF header and program headers; `undefined` when `data` is not a well-formed ELF file. */
export function parseElf(data: Buffer): ElfSummary | undefined {
  if (data.length < 52 || data.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const is64 = data[4] === 2;
  const little = data[5] === 1;
  if (data[4] !== 1 && !is64) return undefined;
  if (data[5] !== 1 && data[5] !== 2) return undefined;
  const u16 = (o: number): number => (little ? data.readUInt16LE(o) : data.readUInt16BE(o));
  const u32 = (o: number): number => (little ? data.readUInt32LE(o) : data.readUInt32BE(o));
  const u64 = (o: number): number => Number(little ? data.readBigUInt64LE(o) : data.readBigUInt64BE(o));
  if (is64 && data.length < 64) return undefined;
  const machine = u16(18);
  const phoff = is64 ? u64(32) : u32(28);
  const phentsize = u16(is64 ? 54 : 42);
  const phnum = u16(is64 ? 56 : 44);
  if (phnum > 0 && (phentsize < 4 || phoff + phnum * phentsize > data.length)) return undefined;
  let hasInterpreter = false;
  for (let i = 0; i < phnum; i++) {
    if (u32(phoff + i * phentsize) === PT_INTERP) hasInterpreter = true;
  }
  return { machine, hasInterpreter };
}
