import { cri, type PartialMessage } from '@crikit/api';
import { toCriContainerState, type ContainerRecord } from '@crikit/core';

/** The CRI list entry of a container. */
export function toCriContainer(r: ContainerRecord): PartialMessage<cri.Container> {
  const m = r.metadata;
  return {
    id: m.id, podSandboxId: m.sandboxId, metadata: m.config.metadata, image: imageSpec(r), imageRef: m.imageRef,
    state: toCriContainerState(r.status.state), createdAt: m.createdAt, labels: m.config.labels,
    annotations: m.config.annotations, imageId: m.imageId,
  };
}

/** The CRI status of a container. */
export function toCriContainerStatus(r: ContainerRecord): PartialMessage<cri.ContainerStatus> {
  const { metadata: m, status: s } = r;
  const stopSignal = m.stopSignal ? cri.signalFromJSON(m.stopSignal.toUpperCase().replace(/^(?!SIG)/, 'SIG')) : cri.Signal.RUNTIME_DEFAULT;
  return {
    id: m.id, metadata: m.config.metadata, state: toCriContainerState(s.state),
    createdAt: m.createdAt, startedAt: s.startedAt, finishedAt: s.finishedAt, exitCode: s.exitCode,
    image: imageSpec(r), imageRef: m.imageRef, imageId: m.imageId, reason: s.reason, message: s.message,
    labels: m.config.labels, annotations: m.config.annotations, mounts: m.config.mounts, logPath: m.logPath,
    resources: s.resources,
    user: m.user ? { linux: { uid: BigInt(m.user.uid), gid: BigInt(m.user.gid), supplementalGroups: m.user.additionalGids.map(BigInt) } } : undefined,
    stopSignal: stopSignal === cri.Signal.UNRECOGNIZED ? cri.Signal.RUNTIME_DEFAULT : stopSignal,
  };
}

// CRI: `image` is the image as the kubelet asked for it; its id goes in image_id.
function imageSpec(r: ContainerRecord): PartialMessage<cri.ImageSpec> {
  const image = r.metadata.config.image;
  return { image: image?.image ?? '', annotations: image?.annotations ?? {}, userSpecifiedImage: image?.userSpecifiedImage ?? '' };
}
