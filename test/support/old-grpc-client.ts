import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const source = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/old-grpc-client/main.go');

/** The answer of one call: the reply bytes, or the error line the client printed. */
export type OldClientAnswer = { reply: Buffer } | { error: string };

/** The old-kubelet-style CRI client (test/fixtures/old-grpc-client), built offline against Debian's grpc-go 1.33. */
export interface OldGrpcClient {
  /** Calls `method` with `request`; `style` old dials the socket path (the path becomes :authority), new dials "localhost". */
  call(socket: string, style: 'old' | 'new', method: string, request: Uint8Array, padMiB?: number): Promise<OldClientAnswer>;
  /** Makes `n` calls on one connection (after 100 untimed ones); resolves with each call's latency in ms. */
  repeat(socket: string, style: 'old' | 'new', method: string, request: Uint8Array, n: number): Promise<number[]>;
  /** Removes the build dir. */
  cleanup(): void;
}

/**
 * Builds the client in GOPATH mode from /usr/share/gocode (about 15 s).
 * @throws Error naming the packages to install when go or the grpc-go sources are missing
 */
export function buildOldGrpcClient(): OldGrpcClient {
  const gocode = '/usr/share/gocode';
  if (spawnSync('go', ['version']).status !== 0 || !fs.existsSync(path.join(gocode, 'src/google.golang.org/grpc'))) {
    throw new Error('the old grpc-go client needs go and grpc-go 1.33 sources: apt-get install golang-go golang-google-grpc-dev');
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ck-go-'));
  const pkg = path.join(dir, 'src', 'oldclient');
  fs.mkdirSync(pkg, { recursive: true });
  fs.copyFileSync(source, path.join(pkg, 'main.go'));
  const bin = path.join(dir, 'old-grpc-client');
  const built = spawnSync('go', ['build', '-o', bin, '.'], {
    cwd: pkg, encoding: 'utf8',
    env: { ...process.env, GO111MODULE: 'off', GOPATH: `${dir}:${gocode}`, GOCACHE: path.join(dir, 'cache'), GOFLAGS: '' },
  });
  if (built.status !== 0) throw new Error(`go build of the old grpc-go client failed: ${built.stderr}`);
  return {
    // Asynchronous, so a server in the test process itself can answer meanwhile.
    call: (socket, style, method, request, padMiB = 0) => new Promise(resolve => {
      const args = ['-socket', socket, '-style', style, '-method', method, '-request', Buffer.from(request).toString('hex'), '-pad-mib', String(padMiB)];
      execFile(bin, args, { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
        const line = stdout.trim();
        resolve(err ? { error: line || stderr.trim() || err.message } : { reply: Buffer.from(line, 'hex') });
      });
    }),
    repeat: (socket, style, method, request, n) => new Promise((resolve, reject) => {
      const args = ['-socket', socket, '-style', style, '-method', method, '-request', Buffer.from(request).toString('hex'), '-repeat', String(n)];
      execFile(bin, args, { encoding: 'utf8', timeout: 600_000, maxBuffer: 64 << 20 }, (err, stdout) => {
        if (err) reject(new Error(`old grpc-go client: ${stdout.trim() || err.message}`));
        else resolve(stdout.trim().split('\n').map(us => Number(us) / 1000));
      });
    }),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
