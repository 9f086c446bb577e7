// crikit's own Images service (crikit.v1: WatchPullProgress, ImportImage) through the CRI socket, against a
// private containerd and the local registry, and the `crikit pull` / `crikit import` commands that use it,
// run in a real pseudo-terminal (tmux). No pods: no network number is needed.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { crikit } from '@crikit/api';
import { RuntimeEventBus } from '@crikit/core';
import { createRuntime, type CriRuntime } from '@crikit/server';
import { pushImage, randomLayersImage, type BuiltImage, type LocalRegistry } from '@crikit/testkit';
import { criClient, type CriClient } from '../support/cri-client.js';
import { tempRuntimeDirs } from '../support/crikitd.js';
import { startRegistry } from '../support/registry-fixture.js';
import { writeDockerSave, writeOciLayout } from '../support/image-archives.js';
import { TmuxTerminal } from '../support/tmux.js';

const crikitMain = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../packages/cli/dist/main.js');
const dirs = tempRuntimeDirs();
const hostsDir = path.join(dirs.dir, 'certs.d');
const config = { ...dirs.config, image: { registryConfigDir: hostsDir } };
/** Where crikitd keeps an archive while it imports it. */
const importsDir = path.join(dirs.dir, 'root', 'imports');
const term = new TmuxTerminal();
let runtime: CriRuntime;
let cri: CriClient;
let images: crikit.ImagesClient;
let registry: LocalRegistry;
/** Listeners of pull progress on the bus before any watch (the runtime's own metrics). */
let baseListeners: number;

before(async () => {
  registry = await startRegistry(hostsDir);
  runtime = createRuntime({ config });
  await runtime.start(AbortSignal.timeout(60_000));
  baseListeners = runtime.container.get(RuntimeEventBus).listenerCount('image:pull-progressed');
  cri = criClient(runtime.socket);
  images = new crikit.ImagesClient(`unix:${runtime.socket}`, grpc.credentials.createInsecure());
});
after(async () => {
  term.close();
  images?.close();
  cri?.close();
  await runtime?.stop(AbortSignal.timeout(30_000));
  await registry?.stop();
  dirs.cleanup();
});

const MiB = 1024 * 1024;
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const short = (digest: string): string => digest.slice(7, 19);

/** Pushes a fresh image of `layers` random layers as `repo:v1` and returns it with its reference. */
async function pushed(repo: string, layers = 3, bytesPerLayer = 8 * MiB): Promise<{ image: BuiltImage; ref: string }> {
  const image = await randomLayersImage({ layers, bytesPerLayer });
  await pushImage({ url: registry.url }, repo, image, { tag: 'v1' });
  return { image, ref: `${registry.host}/${repo}:v1` };
}

/** Opens WatchPullProgress and collects what it streams; `ready` resolves with the first (empty) message. */
function watch(image: string): { call: grpc.ClientReadableStream<crikit.PullProgress>; messages: crikit.PullProgress[]; ready: Promise<void>; ended: Promise<grpc.ServiceError | undefined> } {
  const call = images.watchPullProgress({ image });
  const messages: crikit.PullProgress[] = [];
  let first = true;
  const ready = new Promise<void>((resolve, reject) => {
    call.on('data', (m: crikit.PullProgress) => { if (first) { first = false; assert.deepEqual(m, crikit.PullProgress.fromPartial({})); resolve(); } else messages.push(m); });
    call.once('error', reject);
  });
  ready.catch(() => {});   // awaited by the tests that need it; one that expects an error reads `ended`
  const ended = new Promise<grpc.ServiceError | undefined>(resolve => { call.on('error', resolve); call.on('end', () => resolve(undefined)); });
  return { call, messages, ready, ended };
}

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 20));
  }
}

/** Runs the crikit bin in tmux against this runtime and waits for it to exit. */
async function crikitCli(...args: string[]): Promise<{ screen: string; seen: string[] }> {
  const w = term.start([process.execPath, crikitMain, '--runtime-endpoint', runtime.socket, ...args]);
  return term.waitFor(w, /\[exit \d+\]/, 120_000);
}

describe('WatchPullProgress', () => {
  test('reports every layer of a pull, from its first bytes to its last, and nothing of other images', async t => {
    const { image, ref } = await pushed('progress/three');
    const w = watch(ref);
    const other = watch(`${registry.host}/progress/other:v1`);
    await Promise.all([w.ready, other.ready]);
    await cri.image.pullImage({ image: { image: ref } });
    const last = (digest: string) => w.messages.filter(m => m.layerDigest === digest).at(-1);
    await until('the last progress of every layer', () => image.layers.every(l => last(l.digest)?.bytesDone === BigInt(l.size)));
    w.call.cancel();
    other.call.cancel();
    assert.deepEqual(new Set(w.messages.map(m => m.layerDigest)), new Set(image.layers.map(l => l.digest)), 'one stream of progress per layer, no other blob');
    for (const layer of image.layers) {
      const seen = w.messages.filter(m => m.layerDigest === layer.digest);
      t.diagnostic(`${short(layer.digest)}: ${seen.length} messages, ${seen.map(m => m.bytesDone).join(' ')}`);
      assert.ok(seen.every(m => m.image === ref && m.bytesTotal === BigInt(layer.size)), 'each names the pull and the layer size');
      assert.ok(seen.length >= 2 && seen[0]!.bytesDone < BigInt(layer.size), `${layer.digest}: progress before the end`);
      assert.ok(seen.every((m, i) => i === 0 || m.bytesDone >= seen[i - 1]!.bytesDone), `${layer.digest}: bytes never go back`);
    }
    assert.equal(other.messages.length, 0, 'a watch of another image saw nothing');
  });

  test('a watcher is dropped from the event bus when its client cancels', async () => {
    const bus = runtime.container.get(RuntimeEventBus);
    const base = baseListeners;
    await until('the watchers of earlier tests to go', () => bus.listenerCount('image:pull-progressed') === base);
    const watchers = [watch(''), watch(''), watch('')];
    await Promise.all(watchers.map(w => w.ready));
    assert.equal(bus.listenerCount('image:pull-progressed'), base + 3);
    for (const w of watchers) w.call.cancel();
    await until('the listeners to go', () => bus.listenerCount('image:pull-progressed') === base);
    for (const w of watchers) assert.equal((await w.ended)?.code, grpc.status.CANCELLED);
  });

  test('a bad reference is INVALID_ARGUMENT naming the image field', async () => {
    const err = await watch('UPPER/Case:v1').ended;
    assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err!.details, /^image: parse image reference "UPPER\/Case:v1"/);
  });
});

describe('crikit pull in a terminal', () => {
  test('draws a bar per layer and ends with the image id', async t => {
    const { image, ref } = await pushed('cli/bars');
    const { screen, seen } = await crikitCli('pull', ref);
    t.diagnostic(`${seen.length} distinct screens`);
    assert.match(screen, new RegExp(`^pulling ${esc(ref)}$`, 'm'));
    for (const layer of image.layers) assert.match(screen, new RegExp(`^${short(layer.digest)} \\[█{30}\\] 100% 8\\.0/8\\.0 MiB$`, 'm'));
    assert.match(screen, new RegExp(`^pulled ${esc(ref)} in \\d+\\.\\ds: ${image.config.digest}$`, 'm'));
    assert.match(screen, /\[exit 0\]/);
    const status = await cri.image.imageStatus({ image: { image: ref } });
    assert.equal(status.image?.id, image.config.digest);
    const listed = (await crikitCli('images')).screen;
    assert.match(listed, new RegExp(`^${esc(ref)} +${image.config.digest.slice(7, 20)} +\\d+\\.\\dMB`, 'm'));
    assert.match(listed, /\[exit 0\]/);
  });

  test('writes plain lines when stdout is not a terminal', async () => {
    const { image, ref } = await pushed('cli/lines', 2, 4 * MiB);
    const w = term.start(['sh', '-c', `${process.execPath} ${crikitMain} --runtime-endpoint ${runtime.socket} pull ${ref} | cat`]);
    const { screen } = await term.waitFor(w, /\[exit \d+\]/, 120_000);
    assert.doesNotMatch(screen, /[█░]/);
    for (const layer of image.layers) {
      assert.match(screen, new RegExp(`^layer ${short(layer.digest)}: downloading 4\\.0 MiB$`, 'm'));
      assert.match(screen, new RegExp(`^layer ${short(layer.digest)}: downloaded 4\\.0 MiB$`, 'm'));
    }
    assert.match(screen, new RegExp(`^pulled ${esc(ref)} in \\d+\\.\\ds: ${image.config.digest}$`, 'm'));
  });

  test('a missing image fails with the gRPC status and exit 1', async () => {
    const ref = `${registry.host}/cli/absent:v1`;
    const { screen } = await crikitCli('pull', ref);
    assert.match(screen, new RegExp(`^crikit: pull image "${esc(ref)}": NOT_FOUND: `, 'm'));
    assert.match(screen, /\[exit 1\]/);
  });
});

/** Sends `chunks` to ImportImage and returns its answer or error. */
function importChunks(chunks: Partial<crikit.ImportImageChunk>[]): Promise<{ res?: crikit.ImportImageResponse; err?: grpc.ServiceError }> {
  return new Promise(resolve => {
    const call = images.importImage((err, res) => resolve(err ? { err } : { res }));
    for (const c of chunks) call.write(crikit.ImportImageChunk.fromPartial(c));
    call.end();
  });
}

const leftInImports = (): string[] => (fs.existsSync(importsDir) ? fs.readdirSync(importsDir) : []);

describe('ImportImage and crikit import', () => {
  test('a docker save archive and an OCI layout, sent in chunks, become images ListImages shows', async () => {
    // What a crikitd stopped mid-import would leave; the first import removes it.
    fs.mkdirSync(path.join(importsDir, 'import-left'), { recursive: true });
    fs.writeFileSync(path.join(importsDir, 'import-left', 'archive.tar'), 'partial');
    const saved = await randomLayersImage({ layers: 2, bytesPerLayer: 3 * MiB });
    const savedFile = path.join(dirs.dir, 'saved.tar');
    await writeDockerSave(savedFile, saved, ['crikit.test/saved:v1']);
    const fromSave = await crikitCli('import', savedFile);
    assert.match(fromSave.screen, new RegExp(`^importing ${esc(savedFile)} \\(6\\.\\d MiB\\)$`, 'm'));
    assert.match(fromSave.screen, new RegExp(`^imported ${saved.config.digest}  crikit\\.test/saved:v1$`, 'm'));
    assert.match(fromSave.screen, /\[exit 0\]/);

    const layout = await randomLayersImage({ layers: 1, bytesPerLayer: 64 * 1024 });
    const layoutFile = path.join(dirs.dir, 'layout.tar');
    await writeOciLayout(layoutFile, layout, 'crikit.test/layout:v2');
    const fromLayout = await crikitCli('import', layoutFile);
    assert.match(fromLayout.screen, new RegExp(`^imported ${layout.config.digest}  crikit\\.test/layout:v2$`, 'm'));
    assert.match(fromLayout.screen, /\[exit 0\]/);

    const listed = (await cri.image.listImages({})).images;
    assert.deepEqual(listed.find(i => i.id === saved.config.digest)?.repoTags, ['crikit.test/saved:v1']);
    assert.deepEqual(listed.find(i => i.id === layout.config.digest)?.repoTags, ['crikit.test/layout:v2']);
    assert.deepEqual(leftInImports(), [], 'the uploaded archives are removed, and what an earlier crikitd left');
  });

  test('bad archives and bad files: an error naming the file and the reason, exit 1', async () => {
    const zeros = path.join(dirs.dir, 'zeros.tar');
    fs.writeFileSync(zeros, Buffer.alloc(1024));
    const notArchive = await crikitCli('import', zeros);
    assert.match(notArchive.screen, new RegExp(`^crikit: import "${esc(zeros)}": INVALID_ARGUMENT: import zeros\\.tar: neither an OCI image layout nor a docker save archive$`, 'm'));
    assert.match(notArchive.screen, /\[exit 1\]/);

    const image = await randomLayersImage({ layers: 1, bytesPerLayer: 64 * 1024 });
    const whole = path.join(dirs.dir, 'whole.tar');
    await writeDockerSave(whole, image, ['crikit.test/cut:v1']);
    const cut = path.join(dirs.dir, 'cut.tar');
    fs.writeFileSync(cut, fs.readFileSync(whole).subarray(0, 40 * 1024));
    const truncated = await crikitCli('import', cut);
    assert.match(truncated.screen, new RegExp(`^crikit: import "${esc(cut)}": INVALID_ARGUMENT: .*cut\\.tar`, 'm'));

    const missing = path.join(dirs.dir, 'missing.tar');
    assert.match((await crikitCli('import', missing)).screen, new RegExp(`^crikit: import "${esc(missing)}": no such file$`, 'm'));
    assert.match((await crikitCli('import', dirs.dir)).screen, new RegExp(`^crikit: import "${esc(dirs.dir)}": not a regular file$`, 'm'));
    assert.deepEqual(leftInImports(), []);
  });

  test('ImportImage checks its chunks: a name first, bytes, then nothing is left behind', async () => {
    const noName = await importChunks([{ data: Buffer.from('x') }]);
    assert.equal(noName.err?.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(noName.err?.details, 'name is required on the first chunk');
    const none = await importChunks([]);
    assert.equal(none.err?.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(none.err?.details, 'import image: no chunk was sent');
    const empty = await importChunks([{ name: 'a.tar' }]);
    assert.equal(empty.err?.details, 'import archive "a.tar": the archive is empty');
    const renamed = await importChunks([{ name: 'a.tar', data: Buffer.from('x') }, { name: 'b.tar', data: Buffer.from('y') }]);
    assert.equal(renamed.err?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(renamed.err!.details, /name is set on the first chunk only/);

    // A client that goes away mid-upload: the handler ends and its file goes.
    const call = images.importImage(() => {});
    call.on('error', () => {});
    call.write(crikit.ImportImageChunk.fromPartial({ name: 'gone.tar', data: Buffer.alloc(MiB) }));
    await until('the upload to start', () => leftInImports().length === 1);
    call.cancel();
    await until('the upload to be removed', () => leftInImports().length === 0);
  });
});
