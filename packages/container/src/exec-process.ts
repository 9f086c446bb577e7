import { Any } from '@crikit/api';
import {
  CriError, FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError, type ContainerdClient,
  type ContainerId, type ContainerRecord, type ContainerStore,
} from '@crikit/core';
import { fromSpecAny } from '@crikit/oci';
import type { ContainerInspection } from './container-inspection.js';

const processTypeUrl = 'types.containerd.io/opencontainers/runtime-spec/1/Process';

/**
 * The container an exec (ExecSync or a streaming exec) runs in, and the words its errors start with.
 * @throws NotFoundError for an unknown id
 * @throws InvalidArgumentError for an empty `cmd` or one with a NUL byte
 * @throws FailedPreconditionError when the container is not running
 */
export function execTarget(store: ContainerStore, id: ContainerId, cmd: readonly string[]): { record: ContainerRecord; what: string } {
  const record = store.get(id);
  const what = `exec in container ${record.metadata.name}`;
  if (cmd.length === 0) throw new InvalidArgumentError(`${what}: cmd is empty`);
  // The kernel's argv cannot hold a NUL; runc would refuse the exec later and less clearly.
  const nul = cmd.findIndex(a => a.includes('\0'));
  if (nul >= 0) throw new InvalidArgumentError(`${what}: cmd[${nul}] contains a NUL byte`);
  if (record.status.state !== 'running') throw new FailedPreconditionError(`${what}: the container is ${record.status.state}, not running`);
  return { record, what };
}

/**
 * The process of an exec as containerd's task Exec takes it: the container's own process (user, env,
 * cwd, capabilities…) with `cmd` as its args. Read from the spec ContainerInspection keeps in memory,
 * or from containerd when it holds none.
 */
export async function execProcessAny(
  inspection: ContainerInspection, containerd: ContainerdClient, id: ContainerId,
  cmd: readonly string[], terminal: boolean, signal: AbortSignal,
): Promise<Any> {
  const json = inspection.specJson(id);
  const spec = json !== undefined
    ? JSON.parse(json) as ReturnType<typeof fromSpecAny>
    : fromSpecAny((await containerd.containers.get({ id }, { signal })).container!.spec!);
  const process = { ...spec.process!, args: [...cmd], terminal };
  return Any.fromPartial({ typeUrl: processTypeUrl, value: Buffer.from(JSON.stringify(process)) });
}

/**
 * A failed start of an exec process, named for what the caller sent: runc's "no such file or directory"
 * or "executable file not found" for `cmd[0]` is NOT_FOUND, its "permission denied" PERMISSION_DENIED
 * (containerd passes runc's text through as UNKNOWN). Anything else is returned unchanged.
 */
export function execStartError(err: unknown, what: string, cmd: readonly string[]): unknown {
  if (!(err instanceof CriError) || err.kind !== 'internal') return err;
  const text = err.message;
  if (!/exec failed|unable to start container process/.test(text)) return err;
  if (/no such file or directory|executable file not found/.test(text)) return new NotFoundError(`${what}: cmd[0] ${JSON.stringify(cmd[0])} not found in the container (${text})`, { cause: err });
  if (/permission denied/.test(text)) return new PermissionDeniedError(`${what}: cmd[0] ${JSON.stringify(cmd[0])} cannot be executed (${text})`, { cause: err });
  return err;
}
