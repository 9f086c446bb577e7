import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runtimesConfigSchema, silentLogger, type RuntimesConfig } from '@crikit/core';
import type { FeatureSources } from './feature-sources.js';
import { detectedHandlerFeatures, detectedIdmapMounts, kernelAtLeast, parseOciFeatures, type KernelFeatures } from './oci-features.js';
import { IMPLEMENTED_FEATURES, ProbedRuntimeFeatures, reportedHandlerFeatures } from './probed-runtime-features.js';
import { CRUN_1_8_1_FEATURES_STDERR, CRUN_1_8_1_VERSION, RUNC_1_1_5_FEATURES, RUNC_1_1_5_VERSION } from './recorded-features.js';
import type { RuntimeProbeResult } from './runtime-probe.js';

const signal = new AbortController().signal;
const KERNEL_6: KernelFeatures = { release: '6.1.0-18-amd64', recursiveReadOnlyMounts: true, userNamespaces: true };

// The shape newer runtimes print (runtime-spec 1.1 features with mount extensions), written for these tests.
const IDMAP_FEATURES = JSON.stringify({
  ociVersionMin: '1.0.0', ociVersionMax: '1.1.0', mountOptions: ['rbind', 'ro', 'rro', 'idmap'],
  linux: { namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts'], mountExtensions: { idmap: { enabled: true } } },
});

/** `--version` outputs and probe outcomes by binary; a probe given as an Error fails with it. */
interface Recorded {
  readonly versions?: Record<string, string>;
  readonly probes?: Record<string, RuntimeProbeResult | Error>;
}

/**
 * Answers `<binary> features` from recorded outputs; a binary without one fails as crun 1.8.1 does.
 * `--version` and the probe answer from `recorded`; a binary not there fails as a missing one would.
 */
class RecordedSources implements FeatureSources {
  readonly probed: string[] = [];
  readonly versioned: string[] = [];
  readonly ran: string[] = [];
  constructor(private readonly outputs: Record<string, string | 'hang'>, private readonly kernelFeatures = KERNEL_6, private readonly recorded: Recorded = {}) {}
  async runtimeVersion(binary: string): Promise<string> {
    this.versioned.push(binary);
    const out = this.recorded.versions?.[binary];
    if (out === undefined) throw new Error(`${binary} --version: ENOENT`);
    return out;
  }
  async probeRuntime(binary: string): Promise<RuntimeProbeResult> {
    this.ran.push(binary);
    const out = this.recorded.probes?.[binary];
    if (out === undefined) throw new Error(`no probe recorded for ${binary}`);
    if (out instanceof Error) throw out;
    return out;
  }
  runtimeFeatures(binary: string, s: AbortSignal): Promise<string> {
    this.probed.push(binary);
    const out = this.outputs[binary];
    if (out === 'hang') return new Promise((_r, reject) => s.addEventListener('abort', () => reject(s.reason), { once: true }));
    return out !== undefined ? Promise.resolve(out) : Promise.reject(new Error(`${binary} features: exit status 1: ${CRUN_1_8_1_FEATURES_STDERR.trim()}`));
  }
  async kernel(): Promise<KernelFeatures> { return this.kernelFeatures; }
}

const runtimes = (handlers: Record<string, object>, defaultHandler = 'runc'): RuntimesConfig => runtimesConfigSchema.parse({ defaultHandler, handlers });

describe('parseOciFeatures on recorded outputs', () => {
  it('runc 1.1.5 has rro and the user namespace, but no idmapped mounts', () => {
    assert.deepEqual(parseOciFeatures(RUNC_1_1_5_FEATURES), { recursiveReadOnlyMounts: true, idmapMounts: false, userNamespace: true });
  });
  it('a runtime with mount extensions has idmapped mounts', () => {
    assert.deepEqual(parseOciFeatures(IDMAP_FEATURES), { recursiveReadOnlyMounts: true, idmapMounts: true, userNamespace: true });
    assert.deepEqual(parseOciFeatures('{"ociVersionMin":"1.0.0","linux":{"mountExtensions":{"idmap":{"enabled":false}}}}'),
      { recursiveReadOnlyMounts: false, idmapMounts: false, userNamespace: false });
  });
  it('refuses what is not a features document', () => {
    assert.throws(() => parseOciFeatures(CRUN_1_8_1_FEATURES_STDERR));
    assert.throws(() => parseOciFeatures('{"mountOptions":"rro"}'));
  });
});

describe('detected and reported features', () => {
  it('rro needs kernel 5.12; user namespaces need the namespace and the kernel\'s consent; idmapped mounts their declaration too', () => {
    assert.ok(kernelAtLeast('5.12.0', 5, 12) && kernelAtLeast('6.1.0-18-amd64', 5, 12) && !kernelAtLeast('5.10.0-28-amd64', 5, 12) && !kernelAtLeast('x', 5, 12));
    const runc = parseOciFeatures(RUNC_1_1_5_FEATURES);
    // runc 1.1 has no idmapped mounts: its pods get a remapped rootfs instead.
    assert.deepEqual(detectedHandlerFeatures(runc, KERNEL_6), { recursiveReadOnlyMounts: true, userNamespaces: true });
    assert.equal(detectedIdmapMounts(runc, KERNEL_6), false);
    assert.deepEqual(detectedHandlerFeatures(runc, { ...KERNEL_6, release: '5.10.0', recursiveReadOnlyMounts: false }), { recursiveReadOnlyMounts: false, userNamespaces: true });
    assert.deepEqual(detectedHandlerFeatures(runc, { ...KERNEL_6, userNamespaces: false }), { recursiveReadOnlyMounts: true, userNamespaces: false });
    const idmap = parseOciFeatures(IDMAP_FEATURES);
    assert.deepEqual(detectedHandlerFeatures(idmap, KERNEL_6), { recursiveReadOnlyMounts: true, userNamespaces: true });
    assert.deepEqual(detectedHandlerFeatures(idmap, { ...KERNEL_6, userNamespaces: false }), { recursiveReadOnlyMounts: true, userNamespaces: false });
    assert.equal(detectedIdmapMounts(idmap, KERNEL_6), true);
    assert.equal(detectedIdmapMounts(idmap, { ...KERNEL_6, userNamespaces: false }), false);
    // mount_setattr(2), which idmapped mounts need, came with 5.12 as rro did.
    assert.equal(detectedIdmapMounts(idmap, { ...KERNEL_6, release: '5.10.0', recursiveReadOnlyMounts: false }), false);
    assert.deepEqual(detectedHandlerFeatures(undefined, KERNEL_6), { recursiveReadOnlyMounts: false, userNamespaces: false });
  });
  it('reports a feature only where crikit implements it too', () => {
    const all = { recursiveReadOnlyMounts: true, userNamespaces: true };
    assert.deepEqual(reportedHandlerFeatures(all, { ...IMPLEMENTED_FEATURES, recursiveReadOnlyMounts: true, userNamespaces: false }), { recursiveReadOnlyMounts: true, userNamespaces: false });
    assert.deepEqual(reportedHandlerFeatures(all, { ...IMPLEMENTED_FEATURES, recursiveReadOnlyMounts: false, userNamespaces: true }), { recursiveReadOnlyMounts: false, userNamespaces: true });
    assert.deepEqual(reportedHandlerFeatures({ recursiveReadOnlyMounts: false, userNamespaces: false }, { ...IMPLEMENTED_FEATURES, recursiveReadOnlyMounts: true, userNamespaces: true }),
      { recursiveReadOnlyMounts: false, userNamespaces: false });
    // What crikit implements today: rro, user namespaces and the supplemental-groups policy.
    assert.deepEqual(reportedHandlerFeatures(all), { recursiveReadOnlyMounts: true, userNamespaces: true });
    assert.equal(IMPLEMENTED_FEATURES.supplementalGroupsPolicy, true);
  });
});

describe('ProbedRuntimeFeatures', () => {
  it('lists every handler by name and the default again under \'\', with what was detected in the details', async () => {
    const sources = new RecordedSources({ runc: RUNC_1_1_5_FEATURES, '/opt/idmap-runtime': IDMAP_FEATURES });
    const features = new ProbedRuntimeFeatures(runtimes({
      runc: {}, crun: { binaryName: 'crun' }, idmap: { binaryName: '/opt/idmap-runtime' }, kata: { runtimeType: 'io.containerd.kata.v2' },
    }), sources, silentLogger);
    await features.start();
    const report = await features.report(signal);
    assert.deepEqual(report.handlers.map(h => h.name), ['crun', 'idmap', 'kata', 'runc', '']);
    const reported = Object.fromEntries(report.handlers.map(h => [h.name, h.features]));
    assert.deepEqual(reported.runc, { recursiveReadOnlyMounts: true, userNamespaces: true });
    assert.deepEqual(reported[''], reported.runc);
    assert.deepEqual(reported.idmap, { recursiveReadOnlyMounts: true, userNamespaces: true });
    const idmapMounts = Object.fromEntries(report.handlers.map(h => [h.name, h.idmapMounts]));
    assert.deepEqual(idmapMounts, { crun: false, idmap: true, kata: false, runc: false, '': false });
    // A features document with idmapped mounts has them everywhere, a joined pid namespace too.
    assert.deepEqual(Object.fromEntries(report.handlers.map(h => [h.name, h.idmapMountsJoiningPid])), idmapMounts);
    assert.deepEqual(reported.crun, { recursiveReadOnlyMounts: false, userNamespaces: false });
    assert.deepEqual(reported.kata, { recursiveReadOnlyMounts: false, userNamespaces: false });
    assert.equal(report.supplementalGroupsPolicy, true);
    assert.equal(report.userNamespacesHostNetwork, false);
    const details = report.details.handlers as Record<string, { binary?: string; error?: string; detected: object; reported: object }>;
    assert.deepEqual(details.runc!.detected, { recursiveReadOnlyMounts: true, userNamespaces: true });
    assert.deepEqual(details.idmap!.detected, { recursiveReadOnlyMounts: true, userNamespaces: true });
    assert.deepEqual(details.crun!.detected, { recursiveReadOnlyMounts: false, userNamespaces: false });
    assert.match(details.crun!.error!, /crun features: .*unknown command features/);
    assert.equal(details.kata!.binary, undefined);
    assert.match(details.kata!.error!, /io\.containerd\.kata\.v2/);
    // Probed once: start and later reports share it.
    await features.report(signal);
    assert.deepEqual(sources.probed.sort(), ['/opt/idmap-runtime', 'crun', 'runc']);
  });
  it('reports no rro on a kernel older than 5.12, whatever the binary says', async () => {
    const old = { release: '5.10.0-28-amd64', recursiveReadOnlyMounts: false, userNamespaces: true };
    const features = new ProbedRuntimeFeatures(runtimes({ runc: {} }), new RecordedSources({ runc: RUNC_1_1_5_FEATURES }, old), silentLogger);
    assert.deepEqual((await features.report(signal)).handlers[0]!.features, { recursiveReadOnlyMounts: false, userNamespaces: true });
  });
  it('puts the empty name right after the default handler', async () => {
    const features = new ProbedRuntimeFeatures(runtimes({ runc: {}, crun: { binaryName: 'crun' } }, 'crun'), new RecordedSources({}), silentLogger);
    assert.deepEqual((await features.report(signal)).handlers.map(h => h.name), ['crun', '', 'runc']);
  });
  it('gives up on a binary that does not answer in time, and refuses an aborted call', async () => {
    const features = new ProbedRuntimeFeatures(runtimes({ runc: {} }), new RecordedSources({ runc: 'hang' }), silentLogger);
    const report = await features.report(signal);
    assert.match((report.details.handlers as Record<string, { error: string }>).runc!.error, /no answer within 5000 ms/);
    const aborted = new AbortController();
    aborted.abort();
    await assert.rejects(features.report(aborted.signal));
  });
});

/** A probe outcome: everything seen working, but for the features given with the reason they failed. */
function probeResult(failures: RuntimeProbeResult['failures'] = {}): RuntimeProbeResult {
  return {
    userNamespace: !failures.userNamespace, idmapMounts: !failures.idmapMounts, recursiveReadOnlyMounts: !failures.recursiveReadOnlyMounts,
    failures, ms: 42,
  };
}

type Details = Record<string, { error?: string; derived?: { identity?: string; error?: string; release?: object; probe?: RuntimeProbeResult } }>;

describe('ProbedRuntimeFeatures without a features subcommand', () => {
  const report = async (sources: RecordedSources, handlers: Record<string, object> = { runc: {}, crun: { binaryName: 'crun' } }) => {
    const r = await new ProbedRuntimeFeatures(runtimes(handlers, Object.keys(handlers)[0]), sources, silentLogger).report(signal);
    const by = (name: string) => r.handlers.find(h => h.name === name)!;
    return { by, details: r.details.handlers as Details };
  };

  it('crun 1.8.1: what its release implements and the probe saw work, rro, user namespaces and idmapped mounts', async () => {
    const sources = new RecordedSources({ runc: RUNC_1_1_5_FEATURES }, KERNEL_6, { versions: { crun: CRUN_1_8_1_VERSION }, probes: { crun: probeResult() } });
    const { by, details } = await report(sources);
    assert.deepEqual(by('crun').features, { recursiveReadOnlyMounts: true, userNamespaces: true });
    assert.equal(by('crun').idmapMounts, true);
    // ...but not in a container joining another pid namespace: crun fixed that in 1.8.6.
    assert.equal(by('crun').idmapMountsJoiningPid, false);
    // runc keeps its own path: its features document, no --version, no probe.
    assert.deepEqual([by('runc').features, by('runc').idmapMounts], [{ recursiveReadOnlyMounts: true, userNamespaces: true }, false]);
    assert.deepEqual(sources.versioned, ['crun']);
    assert.deepEqual(sources.ran, ['crun']);
    assert.match(details.crun!.error!, /crun features: .*unknown command features/);
    assert.equal(details.crun!.derived!.identity, 'crun 1.8.1');
    assert.deepEqual(details.crun!.derived!.release, { recursiveReadOnlyMounts: true, idmapMounts: true, idmapMountsJoiningPid: false, userNamespace: true });
    assert.equal(details.crun!.derived!.probe!.ms, 42);
  });

  it('a feature the probe did not see work is not reported, with the probe\'s reason in the details', async () => {
    const failures = { idmapMounts: 'a file owned by 4242:4343 showed as 65534:65534', recursiveReadOnlyMounts: 'a submount of an rro bind stayed writable' };
    const sources = new RecordedSources({}, KERNEL_6, { versions: { crun: CRUN_1_8_1_VERSION }, probes: { crun: probeResult(failures) } });
    const { by, details } = await report(sources, { crun: { binaryName: 'crun' } });
    assert.deepEqual(by('crun').features, { recursiveReadOnlyMounts: false, userNamespaces: true });
    assert.equal(by('crun').idmapMounts, false);
    assert.deepEqual(details.crun!.derived!.probe!.failures, failures);
    // No user namespace seen: no user namespaces, and no idmapped mounts either.
    const none = new RecordedSources({}, KERNEL_6, { versions: { crun: CRUN_1_8_1_VERSION }, probes: { crun: probeResult({ userNamespace: 'crun create: exit status 1: clone: Operation not permitted' }) } });
    const r = await report(none, { crun: { binaryName: 'crun' } });
    assert.deepEqual(r.by('crun').features, { recursiveReadOnlyMounts: true, userNamespaces: false });
    assert.equal(r.by('crun').idmapMounts, false);
  });

  it('a probe that cannot run gives crun nothing, saying why', async () => {
    const sources = new RecordedSources({}, KERNEL_6, { versions: { crun: CRUN_1_8_1_VERSION }, probes: { crun: new Error('mkdir /var/lib/crikit/runtime-probes: EROFS') } });
    const { by, details } = await report(sources, { crun: { binaryName: 'crun' } });
    assert.deepEqual(by('crun').features, { recursiveReadOnlyMounts: false, userNamespaces: false });
    assert.equal(by('crun').idmapMounts, false);
    assert.match(details.crun!.derived!.error!, /^probe of crun 1\.8\.1 \(crun\): mkdir .*EROFS/);
  });

  it('older crun releases: only what the release implements, whatever the probe sees', async () => {
    const version = (v: string) => CRUN_1_8_1_VERSION.replace('1.8.1', v);
    const sources = new RecordedSources({}, KERNEL_6, {
      versions: { '/opt/crun-1.3': version('1.3'), '/opt/crun-1.6': version('1.6'), '/opt/crun-1.8': version('1.8') },
      probes: { '/opt/crun-1.3': probeResult(), '/opt/crun-1.6': probeResult(), '/opt/crun-1.8': probeResult() },
    });
    const { by } = await report(sources, { old: { binaryName: '/opt/crun-1.3' }, mid: { binaryName: '/opt/crun-1.6' }, pre: { binaryName: '/opt/crun-1.8' } });
    // Before 1.4 no rro; before 1.8.1 idmapped mounts took the inverse mappings, which crikit does not write.
    assert.deepEqual([by('old').features, by('old').idmapMounts], [{ recursiveReadOnlyMounts: false, userNamespaces: true }, false]);
    assert.deepEqual([by('mid').features, by('mid').idmapMounts], [{ recursiveReadOnlyMounts: true, userNamespaces: true }, false]);
    assert.deepEqual([by('pre').features, by('pre').idmapMounts], [{ recursiveReadOnlyMounts: true, userNamespaces: true }, false]);
  });

  it('a binary --version does not name as crun (runc 1.1 behind a wrapper without features) gets nothing and is never probed', async () => {
    const sources = new RecordedSources({}, KERNEL_6, { versions: { '/opt/old-runc': RUNC_1_1_5_VERSION }, probes: { '/opt/old-runc': probeResult() } });
    const { by, details } = await report(sources, { old: { binaryName: '/opt/old-runc' }, gone: { binaryName: '/nonexistent/runtime' } });
    assert.deepEqual(by('old').features, { recursiveReadOnlyMounts: false, userNamespaces: false });
    assert.equal(by('old').idmapMounts, false);
    assert.deepEqual(sources.ran, []);
    assert.match(details.old!.derived!.error!, /says "runc version 1\.1\.5\+ds1": not a runtime whose features crikit knows/);
    assert.deepEqual(by('gone').features, { recursiveReadOnlyMounts: false, userNamespaces: false });
    assert.match(details.gone!.derived!.error!, /\/nonexistent\/runtime --version: ENOENT/);
  });

  it('handlers of one binary share one probe; the kernel still has the last word', async () => {
    const noUserns = { ...KERNEL_6, userNamespaces: false };
    const sources = new RecordedSources({}, noUserns, { versions: { crun: CRUN_1_8_1_VERSION }, probes: { crun: probeResult() } });
    const { by } = await report(sources, { crun: { binaryName: 'crun' }, 'crun-b': { binaryName: 'crun' } });
    assert.deepEqual(sources.ran, ['crun']);
    for (const name of ['crun', 'crun-b']) {
      assert.deepEqual(by(name).features, { recursiveReadOnlyMounts: true, userNamespaces: false });
      assert.equal(by(name).idmapMounts, false);
    }
  });
});
