import { FailedPreconditionError } from '@crikit/core';

/** The CNI operations crikit runs (spec 1.1 adds STATUS and GC). */
export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC' | 'VERSION';

/** Well-known CNI error codes (spec 1.1, "Error"); 100 and above are plugin-specific. */
export const CniErrorCode = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  containerUnknown: 3,
  invalidEnvironment: 4,
  ioFailure: 5,
  decodeFailure: 6,
  invalidNetworkConfig: 7,
  tryAgainLater: 11,
  pluginNotAvailable: 50,
  limitedConnectivity: 51,
} as const;

/** The fields of a plugin's failure, as its CNI error object said them. */
export interface CniPluginFailure {
  /** The plugin type (binary name). */
  readonly plugin: string;
  readonly command: CniCommand;
  /** The CNI error code; 0 when the plugin printed no error object (crashed, killed, junk output). */
  readonly code: number;
  readonly msg: string;
  readonly details: string;
}

/**
 * A CNI plugin failed (it exited non-zero or printed something that is not a result). A failed
 * precondition: the network config or the node is not in a state the pod can be networked in.
 * "Try again later" failures are thrown as UnavailableError with this error as the cause instead.
 */
export class CniPluginError extends FailedPreconditionError implements CniPluginFailure {
  readonly plugin: string;
  readonly command: CniCommand;
  readonly code: number;
  readonly msg: string;
  readonly details: string;

  /** `doing` says what crikit was doing, e.g. `attach pod "web/default" to cni network "crikit"`. */
  constructor(doing: string, failure: CniPluginFailure, options?: { cause?: unknown }) {
    super(`${doing}: ${describeCniFailure(failure)}`, options);
    this.plugin = failure.plugin;
    this.command = failure.command;
    this.code = failure.code;
    this.msg = failure.msg;
    this.details = failure.details;
  }
}

/** `plugin "bridge" ADD: <msg>: <details> (code 7)`, the tail of every plugin failure message. */
export function describeCniFailure(f: CniPluginFailure): string {
  const details = f.details && f.details !== f.msg ? `: ${f.details}` : '';
  const code = f.code > 0 ? ` (code ${f.code})` : '';
  return `plugin "${f.plugin}" ${f.command}: ${f.msg || 'failed'}${details}${code}`;
}
