import { inject, injectable } from 'inversify';
import type { cri } from '@crikit/api';
import { ContainerStore, ContainerStreams, FailedPreconditionError, InvalidArgumentError, SandboxStore, StreamingServer, type ContainerRecord } from '@crikit/core';
import type { ServiceHandlers } from './grpc/define-service.js';
import type { CriHandlerGroup } from './cri-handler-group.js';
import { required } from './request-fields.js';

/**
 * Exec, Attach and PortForward: each checks the request as the kubelet's streaming server does and
 * answers with a one-time URL on the streaming server; the work happens when a client connects.
 */
@injectable()
export class StreamingHandlers implements CriHandlerGroup {
  constructor(
    @inject(StreamingServer) private readonly streaming: StreamingServer,
    @inject(ContainerStore) private readonly containers: ContainerStore,
    @inject(SandboxStore) private readonly sandboxes: SandboxStore,
    @inject(ContainerStreams) private readonly containerStreams: ContainerStreams,
  ) {}

  runtime(): ServiceHandlers<typeof cri.RuntimeServiceDefinition> {
    return {
      exec: async req => {
        const record = this.running(req.containerId, 'exec');
        if (req.cmd.length === 0) throw new InvalidArgumentError('exec: cmd is required');
        checkStreams('exec', req);
        return { url: this.streaming.getExecUrl({ ...req, containerId: record.metadata.id }) };
      },
      attach: async req => {
        const record = this.running(req.containerId, 'attach');
        checkStreams('attach', req);
        // Refused here rather than once the client connects: containerd's CRI would accept the URL
        // and drop the client's input; a kubelet is better served by an error it can show.
        if (req.stdin && !record.metadata.config.stdin) throw new FailedPreconditionError(`attach: stdin: container ${record.metadata.id} was not created with stdin`);
        // CRI stdin_once: the first attach's stdin was the only one.
        if (req.stdin && !this.containerStreams.stdinOpen(record.metadata.id)) {
          throw new FailedPreconditionError(`attach: stdin: container ${record.metadata.id} was created with stdin_once and an earlier attach closed its stdin`);
        }
        return { url: this.streaming.getAttachUrl({ ...req, containerId: record.metadata.id }) };
      },
      portForward: async req => {
        const sandbox = this.sandboxes.get(required(req.podSandboxId, 'pod_sandbox_id'));
        // containerd: only a ready sandbox has a network namespace to forward into.
        if (sandbox.status.state !== 'ready') throw new FailedPreconditionError(`portforward: sandbox ${sandbox.metadata.id} is not ready`);
        for (const p of req.port) if (p < 1 || p > 65535) throw new InvalidArgumentError(`port: ${p} is not between 1 and 65535`);
        return { url: this.streaming.getPortForwardUrl({ ...req, podSandboxId: sandbox.metadata.id }) };
      },
    };
  }

  /** The container, which must be running (CRI: exec and attach need a running container). */
  private running(idOrPrefix: string, what: string): ContainerRecord {
    const record = this.containers.get(required(idOrPrefix, 'container_id'));
    if (record.status.state !== 'running') throw new FailedPreconditionError(`${what}: container ${record.metadata.id} is ${record.status.state}, not running`);
    return record;
  }
}

/** The kubelet's checks: at least one stream, and no stderr beside a TTY (its output is merged). */
function checkStreams(what: string, r: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean }): void {
  if (!r.stdin && !r.stdout && !r.stderr) throw new InvalidArgumentError(`${what}: one of stdin, stdout or stderr must be requested`);
  if (r.tty && r.stderr) throw new InvalidArgumentError(`${what}: tty and stderr cannot both be true`);
}
