import fs from 'node:fs/promises';
import path from 'node:path';
import { inject, injectable } from 'inversify';
import { FailedPreconditionError, Logger, throwIfAborted, UnavailableError } from '@crikit/core';
import { parseNetworkConfig } from './cni-config-dir.js';
import { CniConfigWatcher } from './cni-config-watcher.js';
import { renderConfTemplate } from './conf-template.js';
import { NetworkCniConfig } from './network-cni-config.js';

/** The conflist crikit renders from `confTemplate` (containerd names its own `10-containerd-net.conflist`). */
export const renderedConfName = '10-crikit-net.conflist';

/**
 * Renders `confTemplate` with the node's pod CIDRs into `<confDir>/10-crikit-net.conflist` and
 * rescans the conf dir, as containerd does on UpdateRuntimeConfig. Like containerd, it leaves the
 * conf dir alone when a network not rendered by crikit is already loaded (a CNI daemonset owns it).
 */
@injectable()
export class CniConfTemplateWriter {
  /** The file the rendered conflist goes to. */
  readonly file: string;

  constructor(
    @inject(NetworkCniConfig) private readonly config: NetworkCniConfig,
    @inject(CniConfigWatcher) private readonly configs: CniConfigWatcher,
    @inject(Logger) private readonly log: Logger,
  ) {
    this.file = path.join(config.confDir, renderedConfName);
  }

  /**
   * Renders and writes the conflist for `cidrs` (validated CIDRs, first one primary), then rescans.
   * Idempotent: an unchanged rendering is not rewritten. Returns whether the file was written.
   * @throws FailedPreconditionError when the template cannot be read, uses unsupported actions, or renders an invalid conflist
   * @throws UnavailableError when the conflist cannot be written
   */
  async write(cidrs: readonly string[], signal: AbortSignal): Promise<boolean> {
    const doing = `update pod cidr "${cidrs.join(',')}"`;
    const current = this.configs.defaultNetwork;
    if (current && current.file !== this.file) {
      this.log.info({ network: current.name, file: current.file }, 'cni network already configured: conf template not rendered');
      return false;
    }
    let template: string;
    try {
      template = await fs.readFile(this.config.confTemplate, 'utf8');
    } catch (err) {
      throw new FailedPreconditionError(`${doing}: read cni conf template ${this.config.confTemplate}: ${(err as Error).message}`, { cause: err });
    }
    let text: string;
    try {
      text = renderConfTemplate(template, {
        PodCIDR: cidrs[0] ?? '',
        PodCIDRRanges: cidrs,
        Routes: cidrs.map(c => (c.includes(':') ? '::/0' : '0.0.0.0/0')),
      });
      parseNetworkConfig(this.file, text);
    } catch (err) {
      throw new FailedPreconditionError(`${doing}: render cni conf template ${this.config.confTemplate}: ${(err as Error).message}`, { cause: err });
    }
    throwIfAborted(signal, doing);
    const before = await fs.readFile(this.file, 'utf8').catch(() => undefined);
    if (before === text) return false;
    // Written under a name the conf dir scan skips, then renamed, so the watcher never reads half a file.
    const tmp = path.join(this.config.confDir, `.${renderedConfName}.tmp`);
    try {
      await fs.mkdir(this.config.confDir, { recursive: true });
      await fs.writeFile(tmp, text, { mode: 0o644 });
      await fs.rename(tmp, this.file);
    } catch (err) {
      await fs.rm(tmp, { force: true }).catch(() => {});
      throw new UnavailableError(`${doing}: write ${this.file}: ${(err as Error).message}`, { cause: err });
    }
    this.log.info({ file: this.file, cidrs }, 'rendered cni conf template');
    await this.configs.rescan();
    return true;
  }
}
