/**
 * A node made of fakes: crikit's real sandbox manager (`sandboxModule`) in a DI container, with
 * containerd, images and network namespaces from `@crikit/core/testing` and the backend under test
 * bound as the PodNetwork. No root, no containerd, nothing touches the host.
 */
import { Container } from 'inversify';
import { cri } from '@crikit/api';
import {
  CgroupConfig, cgroupConfigSchema, ContainerdClient, coreModule, ImageService, Logger, NetworkNamespaces, NotFoundError,
  PathsConfig, PodNetwork, RuntimesConfig, runtimesConfigSchema, SandboxManager, SandboxStore, silentLogger, Snapshotter,
} from '@crikit/core';
import { FakeContainerd, FakeImageService, FakeNetworkNamespaces, imageRecord } from '@crikit/core/testing';
import { SandboxConfig, sandboxConfigSchema, sandboxModule } from '@crikit/sandbox';

/** The pause image the fake image service holds, so no pull happens. */
export const pauseRef = 'registry.example/pause:3.10';

/** What a test reads after a call: the manager and every fake it used. */
export interface FakeNode {
  readonly manager: SandboxManager;
  readonly store: SandboxStore;
  readonly containerd: FakeContainerd;
  readonly netns: FakeNetworkNamespaces;
  /** Task ids the fake containerd holds now. */
  readonly tasks: Map<string, number>;
  /** Snapshot keys the fake containerd holds now. */
  readonly snapshots: Set<string>;
  /** Everything a failed RunPodSandbox could leave behind; all empty on a clean node. */
  leftovers(): Promise<{ netns: string[]; containers: number; tasks: string[]; snapshots: string[] }>;
}

/** Builds a node whose PodNetwork is `network`; state files go under `dir`. */
export function fakeNode(network: PodNetwork, dir: string): FakeNode {
  const containerd = new FakeContainerd();
  // containerd's task and snapshot services, as far as RunPodSandbox and RemovePodSandbox use them.
  const tasks = new Map<string, number>();
  const snapshots = new Set<string>();
  containerd
    .handle('snapshots.prepare', req => { snapshots.add(req.key); return { mounts: [] }; })
    .handle('snapshots.remove', req => { snapshots.delete(req.key); return {}; })
    .handle('tasks.create', req => { tasks.set(req.containerId, 0); return { containerId: req.containerId, pid: 0 }; })
    .handle('tasks.start', req => { tasks.set(req.containerId, 4242); return { pid: 4242 }; })
    .handle('tasks.get', req => {
      if (!tasks.has(req.containerId)) throw new NotFoundError(`task ${req.containerId}`);
      return { process: { containerId: req.containerId, pid: tasks.get(req.containerId), status: 2 } };
    })
    .handle('tasks.kill', () => ({}))
    .handle('tasks.wait', () => ({ exitStatus: 137 }))
    .handle('tasks.delete', req => { tasks.delete(req.containerId); return {}; });
  const images = new FakeImageService();
  images.store.add(imageRecord({
    status: { repoTags: [pauseRef], pinned: true },
    metadata: { spec: { architecture: 'amd64', os: 'linux', config: { Entrypoint: ['/pause'] }, rootfs: { type: 'layers', diff_ids: [] } } as never },
  }));
  const netns = new FakeNetworkNamespaces(`${dir}/netns`);

  const c = new Container();
  c.bind(Logger).toConstantValue(silentLogger);
  c.bind(ContainerdClient).toConstantValue(containerd);
  c.bind(ImageService).toConstantValue(images);
  c.bind(NetworkNamespaces).toConstantValue(netns);
  c.bind(PodNetwork).toConstantValue(network);
  c.bind(SandboxConfig).toConstantValue(sandboxConfigSchema.parse({ sandboxImage: pauseRef }));
  c.bind(PathsConfig).toConstantValue({ rootDir: `${dir}/root`, stateDir: `${dir}/state` });
  c.bind(RuntimesConfig).toConstantValue(runtimesConfigSchema.parse({ restrictOomScoreAdj: true }));
  c.bind(CgroupConfig).toConstantValue(cgroupConfigSchema.parse({}));
  c.bind(Snapshotter).toConstantValue('overlayfs');
  c.load(coreModule, sandboxModule);

  return {
    manager: c.get(SandboxManager), store: c.get(SandboxStore), containerd, netns, tasks, snapshots,
    leftovers: async () => ({
      netns: [...netns.pinned],
      containers: (await containerd.containers.list({})).containers.length,
      tasks: [...tasks.keys()],
      snapshots: [...snapshots],
    }),
  };
}

/** A kubelet-shaped RunPodSandboxRequest for pod `name` (host IPC, so no /dev/shm mount is needed). */
export function runRequest(name: string): cri.RunPodSandboxRequest {
  return cri.RunPodSandboxRequest.fromPartial({
    config: {
      metadata: { name, namespace: 'default', uid: `uid-${name}`, attempt: 0 },
      linux: { securityContext: { namespaceOptions: { ipc: cri.NamespaceMode.NODE } } },
    },
  });
}
