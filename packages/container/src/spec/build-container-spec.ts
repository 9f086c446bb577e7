import { cgroupsPathFor, defaultLinuxSpec, type OciLinux, type OciSpec } from '@crikit/oci';
import { containerAnnotations } from './container-annotations.js';
import { containerDevices } from './container-devices.js';
import { containerMounts } from './container-mounts.js';
import { containerNamespaces } from './container-namespaces.js';
import { containerProcess } from './container-process.js';
import { containerResources } from './container-resources.js';
import { containerSecurity } from './container-security.js';
import type { ContainerSpecInput } from './container-spec-input.js';
import { containerUser } from './container-user.js';
import { containerUserNamespace, joinPodUserNamespace } from './container-userns.js';

/**
 * Builds the OCI runtime spec of a container in a pod, as containerd's CRI `containerSpec` does,
 * from the image config, the CRI ContainerConfig and the sandbox it joins. Pure: every host fact
 * (the rootfs's user files, device nodes, the Localhost seccomp profile, the pause pid, crikit's
 * oom_score_adj) comes in through `input`; the same input always gives the same spec.
 *
 * The parts, each in its own module: process (args, env, cwd, tty, oom_score_adj), user and groups,
 * mounts (defaults, the sandbox's files, CRI mounts), devices, namespaces (joining the pause's),
 * resources and cgroups path, security (capabilities, privileged, no_new_privs, read-only rootfs,
 * masked paths, seccomp, AppArmor), the pod's user namespace, annotations.
 * @throws InvalidArgumentError for a request the CRI forbids or that does not fit the image (no
 *   command, unknown user, privileged container in an unprivileged sandbox, bad device permissions…),
 *   FailedPreconditionError for what the node cannot do (rro, unified on cgroup v1, AppArmor on a
 *   host without it, a sandbox without a pause process), UnimplementedError for idmapped or image mounts
 */
export function buildContainerSpec(input: ContainerSpecInput): OciSpec {
  const { id, config, image, sandbox, options } = input;
  const sc = config.linux?.securityContext;
  const security = containerSecurity(config, {
    sandboxConfig: sandbox.config, localhostSeccomp: input.localhostSeccomp, options,
  });
  const { privileged } = security;
  const userns = containerUserNamespace(config, sandbox.config, options.userns ?? { userNamespaces: false, idmapMounts: false });

  const spec = defaultLinuxSpec({
    cgroupsPath: cgroupsPathFor(sandbox.config.linux?.cgroupParent ?? '', id, options.cgroupDriver, options.containerdNamespace),
  });
  const defaults = spec.linux!;

  spec.process = {
    ...containerProcess(config, { image: image.config, podHostname: sandbox.config.hostname, options }),
    user: containerUser(sc, image.config, input.userDb),
    capabilities: security.capabilities,
    noNewPrivileges: security.noNewPrivileges,
    ...(security.apparmorProfile !== undefined ? { apparmorProfile: security.apparmorProfile } : {}),
  };
  spec.root = { path: 'rootfs', ...(security.readonlyRootfs ? { readonly: true } : {}) };

  const mounts = containerMounts(config, {
    sandbox, privileged, readonlyRootfs: security.readonlyRootfs, supportsRecursiveReadOnly: options.supportsRecursiveReadOnly,
  });
  spec.mounts = mounts.mounts;

  const devices = containerDevices(config, {
    host: input.devices, privileged, ownershipFromSecurityContext: options.deviceOwnershipFromSecurityContext ?? false,
  });
  const resources = containerResources(config.linux?.resources, options);
  const linux: OciLinux = {
    namespaces: containerNamespaces(sc, { sandbox, targetPid: input.targetPid, privileged, cgroupVersion: options.cgroupVersion }),
    ...(defaults.cgroupsPath !== undefined ? { cgroupsPath: defaults.cgroupsPath } : {}),
    resources: {
      ...resources,
      devices: devices.replaceDefaultRules ? devices.rules : [...(defaults.resources?.devices ?? []), ...devices.rules],
    },
    ...(devices.devices.length > 0 ? { devices: devices.devices } : {}),
    ...(security.maskedPaths ? { maskedPaths: security.maskedPaths } : {}),
    ...(security.readonlyPaths ? { readonlyPaths: security.readonlyPaths } : {}),
    ...(security.seccomp ? { seccomp: security.seccomp } : {}),
    ...(mounts.rootfsPropagation ? { rootfsPropagation: mounts.rootfsPropagation } : {}),
  };
  spec.linux = linux;
  if (userns) joinPodUserNamespace(spec, userns, sandbox);
  spec.annotations = containerAnnotations(config, {
    sandboxId: sandbox.id, sandboxConfig: sandbox.config, imageName: image.name,
    podAnnotationPatterns: input.annotationPatterns?.pod, containerAnnotationPatterns: input.annotationPatterns?.container,
  });
  return spec;
}
