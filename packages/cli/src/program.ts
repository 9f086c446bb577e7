import { Command, InvalidArgumentError } from 'commander';
import { connectCri, defaultSocket, describeError, type CriConnection } from './cri-connection.js';
import { defaultDoctorOptions, readDoctorOptions } from './doctor/doctor-options.js';
import { doctorExitCode, formatDoctor, runDoctor } from './doctor/doctor.js';
import { Host } from './doctor/host.js';
import { followEvents } from './events-command.js';
import { listImages } from './images-command.js';
import { importArchive } from './import-command.js';
import { pullImage } from './pull-command.js';

/** The `crikit` command line: doctor, pull, import, images, events. Actions set `process.exitCode`, never exit. */
export function createProgram(): Command {
  const program = new Command('crikit')
    .description('crikit node tools: check the host, pull and import images, follow container events')
    .option('-r, --runtime-endpoint <socket>', 'crikitd CRI socket', process.env.CRIKIT_SOCKET ?? defaultSocket)
    .showHelpAfterError();

  program.command('doctor')
    .description('check the host for what crikitd needs; exits 1 when something required is missing')
    .option('-c, --config <file>', 'crikitd TOML config to take paths from (containerd binary, runtimes, CNI dirs)')
    .action((opts: { config?: string }) => {
      const options = opts.config === undefined ? defaultDoctorOptions : readDoctorOptions(opts.config);
      const results = runDoctor(Host.real(), options);
      process.stdout.write(`${formatDoctor(results)}\n`);
      process.exitCode = doctorExitCode(results);
    });

  program.command('pull')
    .description('pull an image through crikitd (CRI PullImage), with a live progress bar per layer')
    .argument('<image>', 'image reference, e.g. registry.k8s.io/pause:3.10')
    .option('-t, --timeout <seconds>', 'give up after this many seconds (0: no limit)', seconds, 0)
    .action(async (image: string, opts: { timeout: number }) => {
      await withConnection(program, async (conn, signal) => {
        await pullImage(conn, image, { timeoutSeconds: opts.timeout, stream: process.stdout, signal });
      });
    });

  program.command('import')
    .description('import a `docker save` archive or an OCI image layout tar into crikitd; prints the image ids and names')
    .argument('<file>', 'the archive on this host')
    .action(async (file: string) => {
      await withConnection(program, async (conn, signal) => {
        await importArchive(conn, file, { stream: process.stdout, signal });
      });
    });

  program.command('images')
    .description('list the images crikitd knows (CRI ListImages)')
    .action(async () => {
      const conn = connectCri(program.opts<{ runtimeEndpoint: string }>().runtimeEndpoint);
      try {
        process.stdout.write(`${await listImages(conn)}\n`);
      } catch (err) {
        process.stderr.write(`${describeError('list images', err)}\n`);
        process.exitCode = 1;
      } finally {
        conn.close();
      }
    });

  program.command('events')
    .description('follow container events (CRI GetContainerEvents), one line each, until Ctrl-C')
    .action(async () => {
      const conn = connectCri(program.opts<{ runtimeEndpoint: string }>().runtimeEndpoint);
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
      process.stderr.write('following container events (Ctrl-C to stop)\n');
      try {
        await followEvents(conn, line => process.stdout.write(`${line}\n`), stop.signal);
      } catch (err) {
        process.stderr.write(`${describeError('follow container events', err)}\n`);
        process.exitCode = 1;
      } finally {
        process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
        conn.close();
      }
    });
  return program;
}

// Runs `fn` with a connection and a signal that Ctrl-C fires; a failure is printed and exits 1.
async function withConnection(program: Command, fn: (conn: CriConnection, signal: AbortSignal) => Promise<void>): Promise<void> {
  const conn = connectCri(program.opts<{ runtimeEndpoint: string }>().runtimeEndpoint);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    await fn(conn, stop.signal);
  } catch (err) {
    process.stderr.write(`crikit: ${(err as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    conn.close();
  }
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of seconds, 0 or more');
  return n;
}
