import { cri } from '@crikit/api';
import { decodeOciImageConfig, NotFoundError, type ContainerId, type SandboxId } from '@crikit/core';
import type { ContainerSpecInput, ContainerSpecOptions, HostDevice, HostDevices, PodSandboxContext } from './container-spec-input.js';

// Builders for the spec tests (not exported from the package).

export const CONTAINER_ID = 'c'.repeat(64) as ContainerId;
export const SANDBOX_ID = 's'.repeat(64) as SandboxId;

/** A CRI ContainerConfig with a security context, every field at its proto default unless patched. */
export function containerConfig(
  patch: Partial<cri.ContainerConfig> = {}, sc: Partial<cri.LinuxContainerSecurityContext> = {},
  resources?: Partial<cri.LinuxContainerResources>,
): cri.ContainerConfig {
  const config = cri.ContainerConfig.fromPartial({ metadata: { name: 'app', attempt: 0 }, image: { image: 'busybox' } });
  config.linux = {
    securityContext: { ...cri.LinuxContainerSecurityContext.fromPartial({}), ...sc },
    resources: resources ? { ...cri.LinuxContainerResources.fromPartial({}), ...resources } : undefined,
  };
  return Object.assign(config, patch);
}

/** A pod sandbox config; `ns` patches the pod's namespace options. */
export function sandboxConfig(
  sc: Partial<cri.LinuxSandboxSecurityContext> = {}, ns: Partial<cri.NamespaceOption> = {}, cgroupParent = '/kubepods/pod1',
): cri.PodSandboxConfig {
  const config = cri.PodSandboxConfig.fromPartial({
    metadata: { name: 'web', namespace: 'default', uid: 'uid-1', attempt: 0 }, hostname: 'web-0',
  });
  config.linux = cri.LinuxPodSandboxConfig.fromPartial({ cgroupParent });
  config.linux.securityContext = {
    ...cri.LinuxSandboxSecurityContext.fromPartial({}), ...sc,
    namespaceOptions: { ...cri.NamespaceOption.fromPartial({}), ...ns },
  };
  return config;
}

/** The sandbox context of a running pod with a pinned netns. */
export function sandboxContext(config = sandboxConfig(), patch: Partial<PodSandboxContext> = {}): PodSandboxContext {
  return {
    id: SANDBOX_ID, config, pid: 4242, netnsPath: '/var/run/netns/cni-1',
    files: { hostname: '/sb/hostname', hosts: '/sb/hosts', resolvConf: '/sb/resolv.conf', shm: '/sb/shm' },
    ...patch,
  };
}

/** Node options for a cgroup v2 host without AppArmor. */
export function specOptions(patch: Partial<ContainerSpecOptions> = {}): ContainerSpecOptions {
  return {
    cgroupDriver: 'cgroupfs', cgroupVersion: 2, restrictOomScoreAdj: false, ownOomScoreAdj: 0, hostHasAppArmor: false,
    runtimeDefaultSeccomp: false, supportsRecursiveReadOnly: true, swapControllerAvailable: true,
    hugetlbControllerAvailable: true, nodeHostname: 'node-1', arch: 'amd64', ...patch,
  };
}

/** A char device node. */
export function charDevice(path: string, major: number, minor: number): HostDevice {
  return { path, type: 'c', major, minor, fileMode: 0o666, uid: 0, gid: 0 };
}

/** Host devices from a fixed table; `lookup` of a directory returns the nodes below it. */
export function hostDevices(table: readonly HostDevice[] = [charDevice('/dev/null', 1, 3), charDevice('/dev/fuse', 10, 229)]): HostDevices {
  return {
    lookup(path) {
      const found = table.filter(d => d.path === path || d.path.startsWith(`${path}/`));
      if (found.length === 0) throw new NotFoundError(`device "${path}" not found`);
      return found;
    },
    all: () => table,
  };
}

/** The full input of `buildContainerSpec`, patched. */
export function specInput(patch: Partial<ContainerSpecInput> = {}): ContainerSpecInput {
  return {
    id: CONTAINER_ID,
    config: containerConfig({ command: ['/bin/sh'] }),
    image: {
      name: 'docker.io/library/busybox:latest',
      config: decodeOciImageConfig({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'], Env: ['PATH=/bin'] } }),
    },
    sandbox: sandboxContext(),
    userDb: { passwd: 'root:x:0:0::/root:/bin/sh\n', group: 'root:x:0:\n' },
    devices: hostDevices(),
    options: specOptions(),
    ...patch,
  };
}
