import { createHash, randomBytes } from 'node:crypto';
import { cri } from '@crikit/api';
import type { ContainerId, ImageId, SandboxId } from '../ids.js';
import { containerName, containerRecordOf, initialContainerStatus, type ContainerMetadata, type ContainerRecord, type ContainerStatus } from '../model/container-record.js';
import { imageRecordOf, imageUser, type ImageMetadata, type ImageRecord, type ImageStatus } from '../model/image-record.js';
import { decodeOciImageConfig } from '../model/oci-image-config.js';
import { initialSandboxStatus, sandboxName, sandboxRecordOf, type SandboxMetadata, type SandboxRecord, type SandboxStatus } from '../model/sandbox-record.js';

let sequence = 0;

/** A fresh 64-hex id, like the ids crikit generates. */
export function randomId(): string {
  return randomBytes(32).toString('hex');
}

/** `sha256:` + the hex digest of `text`: a stable, realistic digest for fixtures. */
export function digestOf(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** Overrides for a record builder: any metadata or status field. */
export interface RecordOverrides<M, S> {
  readonly metadata?: Partial<M>;
  readonly status?: Partial<S>;
}

/**
 * A ready sandbox with a fresh id and pod `pod-N` in `default`; any field can be overridden.
 * The name follows `config.metadata` unless given.
 */
export function sandboxRecord(overrides: RecordOverrides<SandboxMetadata, SandboxStatus> = {}): SandboxRecord {
  const n = ++sequence;
  const config = overrides.metadata?.config ?? cri.PodSandboxConfig.fromPartial({
    metadata: { name: `pod-${n}`, namespace: 'default', uid: `uid-${n}`, attempt: 0 },
    logDirectory: `/var/log/pods/default_pod-${n}_uid-${n}`,
  });
  const metadata: SandboxMetadata = {
    version: 1,
    id: randomId() as SandboxId,
    name: sandboxName(config.metadata ?? cri.PodSandboxMetadata.fromPartial({})),
    config,
    runtimeHandler: '',
    netnsPath: `/var/run/netns/cni-${n}`,
    createdAt: BigInt(Date.now()) * 1_000_000n,
    ...overrides.metadata,
  };
  const status: SandboxStatus = { ...initialSandboxStatus, state: 'ready', pid: 10_000 + n, ip: `10.88.${n >> 8 & 255}.${n & 255}`, ...overrides.status };
  return sandboxRecordOf(metadata, status);
}

/**
 * A created container `ctr-N` running busybox, in `sandbox` when given (else in a made-up pod);
 * any field can be overridden. The name follows the container and pod metadata unless given.
 */
export function containerRecord(overrides: RecordOverrides<ContainerMetadata, ContainerStatus> = {}, sandbox?: SandboxRecord): ContainerRecord {
  const n = ++sequence;
  const config = overrides.metadata?.config ?? cri.ContainerConfig.fromPartial({
    metadata: { name: `ctr-${n}`, attempt: 0 },
    image: { image: 'docker.io/library/busybox:latest' },
    logPath: `ctr-${n}/0.log`,
  });
  const pod = sandbox?.metadata.config.metadata ?? cri.PodSandboxMetadata.fromPartial({ name: 'pod', namespace: 'default', uid: 'uid', attempt: 0 });
  const imageId = digestOf('busybox config') as ImageId;
  const metadata: ContainerMetadata = {
    version: 1,
    id: randomId() as ContainerId,
    name: containerName(config.metadata ?? cri.ContainerMetadata.fromPartial({}), pod),
    sandboxId: sandbox?.metadata.id ?? randomId() as SandboxId,
    config,
    imageRef: `docker.io/library/busybox@${digestOf('busybox manifest')}`,
    imageId,
    logPath: `${sandbox?.metadata.config.logDirectory || '/var/log/pods/default_pod_uid'}/${config.logPath}`,
    stopSignal: 'SIGTERM',
    createdAt: BigInt(Date.now()) * 1_000_000n,
    ...overrides.metadata,
  };
  return containerRecordOf(metadata, { ...initialContainerStatus, ...overrides.status });
}

/**
 * An image `docker.io/library/image-N:latest` with a fresh id and a small linux/amd64 config;
 * any field can be overridden. `uid` and `username` follow `spec.config.User` unless given.
 */
export function imageRecord(overrides: RecordOverrides<ImageMetadata, ImageStatus> = {}): ImageRecord {
  const n = ++sequence;
  const spec = overrides.metadata?.spec ?? decodeOciImageConfig({
    architecture: 'amd64', os: 'linux',
    config: { Cmd: ['sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    rootfs: { type: 'layers', diff_ids: [digestOf(`layer ${n}`)] },
  });
  const id = (overrides.metadata?.id ?? `sha256:${randomId()}`) as ImageId;
  const metadata: ImageMetadata = {
    id, chainId: digestOf(`chain ${n}`), size: 1_000_000 + n, ...imageUser(spec.config.User), spec, ...overrides.metadata,
  };
  const status: ImageStatus = {
    repoTags: [`docker.io/library/image-${n}:latest`],
    repoDigests: [`docker.io/library/image-${n}@${digestOf(`manifest ${n}`)}`],
    pinned: false,
    ...overrides.status,
  };
  return imageRecordOf(metadata, status);
}
