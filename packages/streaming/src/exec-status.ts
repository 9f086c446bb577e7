// The status a remote-command session ends with, as the kubelet writes it on the error stream
// (k8s.io/kubelet pkg/kubelet/cri/streaming/remotecommand): protocols v4 and v5 carry a
// metav1.Status as JSON; the older ones carry the error message alone, and nothing on success.

/** How a session ended. */
export type ExecOutcome =
  | { readonly kind: 'exited'; readonly exitCode: number; readonly cmd: readonly string[] }
  | { readonly kind: 'error'; readonly message: string };

/** metav1.Status, the fields the kubelet fills. */
export interface ExecStatusJson {
  readonly metadata: Record<string, never>;
  readonly status: 'Success' | 'Failure';
  readonly message?: string;
  readonly reason?: string;
  readonly details?: { readonly causes: readonly { readonly reason?: string; readonly message: string }[] };
  readonly code?: number;
}

/** The v4/v5 status JSON of an outcome. */
export function statusJson(outcome: ExecOutcome): ExecStatusJson {
  if (outcome.kind === 'exited' && outcome.exitCode === 0) return { metadata: {}, status: 'Success' };
  if (outcome.kind === 'exited') {
    return {
      metadata: {}, status: 'Failure',
      message: `command terminated with non-zero exit code: command '${outcome.cmd.join(' ')}' exited with ${outcome.exitCode}`,
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: String(outcome.exitCode) }] },
    };
  }
  const message = `error executing command in container: ${outcome.message}`;
  return { metadata: {}, status: 'Failure', message: `Internal error occurred: ${message}`, reason: 'InternalError', details: { causes: [{ message }] }, code: 500 };
}

/**
 * What goes on the error stream for `outcome` under `protocol`: v4/v5 the JSON status, older
 * protocols the message of a failure, and nothing on success.
 */
export function errorStreamPayload(protocol: string, outcome: ExecOutcome): Buffer | undefined {
  const status = statusJson(outcome);
  if (/^v[45]\./.test(protocol)) return Buffer.from(JSON.stringify(status));
  return status.status === 'Success' ? undefined : Buffer.from(status.message ?? '');
}
