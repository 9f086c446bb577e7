import { z } from 'zod';
import { isAnnotationPattern } from './annotation-patterns.js';

const annotationPatterns = (what: string) => z.array(z.string().min(1).refine(isAnnotationPattern, { message: 'malformed pattern' })).default([])
  .describe(`${what} annotations whose keys match one of these patterns (Go path.Match: * ? [a-z]) go into the OCI spec; empty: none (containerd's ${what === 'pod' ? 'pod_annotations' : 'container_annotations'})`);

/** One runtime handler (a Kubernetes RuntimeClass handler) and the containerd runtime behind it. */
export const runtimeHandlerSchema = z.strictObject({
  runtimeType: z.string().min(1).default('io.containerd.runc.v2').describe('the containerd runtime (shim) that runs its tasks'),
  binaryName: z.string().default('').describe('the runc binary the shim calls; empty: runc on PATH'),
  root: z.string().default('').describe("runc's state root; empty: runc's default"),
  systemdCgroup: z.boolean().default(false).describe('let runc manage cgroups through systemd (cgroup.driver = "systemd")'),
  podAnnotations: annotationPatterns('pod'),
  containerAnnotations: annotationPatterns('container'),
});
export type RuntimeHandlerConfig = z.infer<typeof runtimeHandlerSchema>;

/** The runtime handlers pods may ask for, and how their processes are tuned. */
export const runtimesConfigSchema = z.strictObject({
  defaultHandler: z.string().min(1).default('runc').describe('the handler of pods that name none'),
  handlers: z.record(z.string().min(1), runtimeHandlerSchema).default({ runc: runtimeHandlerSchema.parse({}) })
    .describe('handlers by name, e.g. [runtimes.handlers.runc]'),
  restrictOomScoreAdj: z.boolean().default(false)
    .describe("never ask for an oom_score_adj below crikit's own (containerd's restrict_oom_score_adj), for hosts without CAP_SYS_RESOURCE"),
}).refine(c => c.defaultHandler in c.handlers, { message: 'defaultHandler must name one of handlers', path: ['defaultHandler'] });
export type RuntimesConfig = z.infer<typeof runtimesConfigSchema>;
export const RuntimesConfig = Symbol('RuntimesConfig');
