import { cri } from '@crikit/api';
import { FailedPreconditionError, InternalError } from '@crikit/core';
import { type OciNamespace } from '@crikit/oci';
import type { PodSandboxContext } from './container-spec-input.js';

/** What `containerNamespaces` needs besides the container's security context. */
export interface NamespaceContext {
  readonly sandbox: PodSandboxContext;
  /** Host pid of the target container, for pid mode TARGET. */
  readonly targetPid?: number | undefined;
  readonly privileged: boolean;
  readonly cgroupVersion: 1 | 2;
}

const M = cri.NamespaceMode;
const nsPath = (pid: number, ns: string): string => `/proc/${pid}/ns/${ns}`;

/**
 * The namespaces of a container in a pod (containerd's `WithPodNamespaces`):
 * - network: the sandbox's pinned netns; none (the host's) for a host-network pod;
 * - ipc, uts: the pause process's (`/proc/<pause pid>/ns/ipc|uts`); the host's when the pod shares
 *   the host's IPC or network (a host-network pod has the host's UTS);
 * - pid by the container's mode: POD joins the pause's, CONTAINER gets a new one, NODE the host's,
 *   TARGET joins the target container's;
 * - mount: always new; cgroup: new on cgroup v2 unless privileged (containerd hides the host
 *   hierarchy this way; v1 keeps docker's behaviour).
 * Absent from the list means the host's namespace.
 * @throws FailedPreconditionError when the sandbox has no running pause process, or TARGET has no target pid
 */
export function containerNamespaces(sc: cri.LinuxContainerSecurityContext | undefined, context: NamespaceContext): OciNamespace[] {
  const { sandbox } = context;
  const podNs = sandbox.config.linux?.securityContext?.namespaceOptions;
  const hostNetwork = podNs?.network === M.NODE;
  const hostIpc = podNs?.ipc === M.NODE;
  const pidMode = sc?.namespaceOptions?.pid ?? M.POD;
  if (sandbox.pid <= 0) throw new FailedPreconditionError(`sandbox ${sandbox.id} has no running pause process`);

  const namespaces: OciNamespace[] = [{ type: 'mount' }];
  if (!hostNetwork) {
    if (sandbox.netnsPath === undefined || sandbox.netnsPath === '') {
      throw new InternalError(`sandbox ${sandbox.id}: no network namespace path for a pod network`);
    }
    namespaces.push({ type: 'network', path: sandbox.netnsPath });
    namespaces.push({ type: 'uts', path: nsPath(sandbox.pid, 'uts') });
  }
  if (!hostIpc) namespaces.push({ type: 'ipc', path: nsPath(sandbox.pid, 'ipc') });
  switch (pidMode) {
    case M.CONTAINER: namespaces.push({ type: 'pid' }); break;
    case M.NODE: break;
    case M.TARGET:
      if (!context.targetPid) throw new FailedPreconditionError(`pid namespace target "${sc?.namespaceOptions?.targetId ?? ''}" is not running`);
      namespaces.push({ type: 'pid', path: nsPath(context.targetPid, 'pid') });
      break;
    default:
      // POD: the pause's pid namespace, which is the host's when the pod shares the host's.
      if (podNs?.pid !== M.NODE) namespaces.push({ type: 'pid', path: nsPath(sandbox.pid, 'pid') });
  }
  if (context.cgroupVersion === 2 && !context.privileged) namespaces.push({ type: 'cgroup' });
  return namespaces;
}
