import fs from 'node:fs';
import path from 'node:path';
import { cri, type PartialMessage } from '@crikit/api';
import type { CriClient } from './cri-client.js';

let attempt = 0;
/** A kubelet-shaped ContainerConfig running busybox `sh -c script`. */
export function containerConfig(name: string, image: string, script: string, extra: PartialMessage<cri.ContainerConfig> = {}): PartialMessage<cri.ContainerConfig> {
  return {
    metadata: { name, attempt: attempt++ },
    image: { image },
    command: ['/bin/sh', '-c', script],
    logPath: `${name}.log`,
    labels: { container: name },
    linux: { securityContext: { namespaceOptions: { network: cri.NamespaceMode.POD, pid: cri.NamespaceMode.CONTAINER, ipc: cri.NamespaceMode.POD } } },
    ...extra,
  };
}

/** Creates and starts a container; resolves with its id once it runs. */
export async function runContainer(c: CriClient, podSandboxId: string, sandboxConfig: PartialMessage<cri.PodSandboxConfig>, config: PartialMessage<cri.ContainerConfig>): Promise<string> {
  const { containerId } = await c.runtime.createContainer({ podSandboxId, config, sandboxConfig });
  await c.runtime.startContainer({ containerId });
  return containerId;
}

/** Polls until `fn` returns a value other than undefined (at most `ms`). */
export async function eventually<T>(fn: () => Promise<T | undefined>, what: string, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 100));
  }
}

/** Waits until the container has exited; resolves with its status. */
export function exited(c: CriClient, containerId: string): Promise<cri.ContainerStatus> {
  return eventually(async () => {
    const s = (await c.runtime.containerStatus({ containerId })).status!;
    return s.state === cri.ContainerState.CONTAINER_EXITED ? s : undefined;
  }, `container ${containerId} to exit`);
}

/** The parsed lines of a CRI log file: `{ stream, tag, text }`. */
export function logLines(file: string): { time: string; stream: string; tag: string; text: string }[] {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map(l => {
    const m = /^(\S+) (stdout|stderr) ([PF]) (.*)$/.exec(l);
    if (!m) throw new Error(`not a CRI log line: ${JSON.stringify(l)}`);
    return { time: m[1]!, stream: m[2]!, tag: m[3]!, text: m[4]! };
  });
}

/** The log file of container `name` in a pod whose log directory is `dir`. */
export const logFile = (dir: string, name: string): string => path.join(dir, `${name}.log`);
