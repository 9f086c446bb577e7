import type { RuntimeFeatures, RuntimeFeaturesReport } from '../contracts/runtime-features.js';
import { throwIfAborted } from '../errors.js';
import { FakeRecorder, type MethodsOf } from './fake-recorder.js';

/** RuntimeFeatures answering a fixed report (one handler `runc`, nothing supported, unless given). */
export class FakeRuntimeFeatures extends FakeRecorder<MethodsOf<RuntimeFeatures>> implements RuntimeFeatures {
  constructor(private readonly fixed: RuntimeFeaturesReport = {
    handlers: [
      { name: 'runc', features: { recursiveReadOnlyMounts: false, userNamespaces: false } },
      { name: '', features: { recursiveReadOnlyMounts: false, userNamespaces: false } },
    ],
    supplementalGroupsPolicy: false, userNamespacesHostNetwork: false, details: {},
  }) {
    super();
  }

  async report(signal: AbortSignal): Promise<RuntimeFeaturesReport> {
    this.record('report');
    throwIfAborted(signal, 'runtime features');
    return this.fixed;
  }
}
