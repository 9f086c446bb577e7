import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Runs commands in a real pseudo-terminal: a private tmux server (its own socket file, `-S`) with one window per
 * command. After the command ends the window stays and prints `[exit N]`, so a test can read the code.
 */
export class TmuxTerminal {
  private readonly socket = path.join(os.tmpdir(), `ck-tmux-${process.pid}.sock`);
  private count = 0;

  /** Starts `argv` in a new 160x50 window without CI in its environment (so it acts as on an operator's terminal). */
  start(argv: readonly string[]): string {
    const name = `w${this.count++}`;
    const cmd = `env -u CI ${argv.map(quote).join(' ')}; echo "[exit $?]"; sleep 3600`;
    this.tmux(['new-session', '-d', '-s', name, '-x', '160', '-y', '50', cmd]);
    return name;
  }

  /** The visible text of a window, trailing blank lines dropped. */
  capture(name: string): string {
    return this.tmux(['capture-pane', '-p', '-t', name]).replace(/\s+$/, '');
  }

  /** Sends keys (tmux names, e.g. `C-c`). */
  sendKeys(name: string, ...keys: string[]): void {
    this.tmux(['send-keys', '-t', name, ...keys]);
  }

  /** Polls the window every 50 ms until `pattern` shows, returning each distinct screen seen on the way. */
  async waitFor(name: string, pattern: RegExp, ms = 60_000): Promise<{ screen: string; seen: string[] }> {
    const deadline = Date.now() + ms;
    const seen: string[] = [];
    for (;;) {
      const screen = this.capture(name);
      if (seen.at(-1) !== screen) seen.push(screen);
      if (pattern.test(screen)) return { screen, seen };
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} in tmux window ${name}; screen:\n${screen}`);
      await new Promise(r => setTimeout(r, 50));
    }
  }

  /** Kills this terminal's tmux server and everything running in it, and removes its socket. */
  close(): void {
    spawnSync('tmux', ['-S', this.socket, 'kill-server']);
    fs.rmSync(this.socket, { force: true });
  }

  private tmux(args: string[]): string {
    const res = spawnSync('tmux', ['-S', this.socket, ...args], { encoding: 'utf8' });
    if (res.error) throw new Error(`tmux ${args[0]}: ${res.error.message} (apt-get install tmux)`);
    if (res.status !== 0) throw new Error(`tmux ${args[0]} exited ${res.status}: ${res.stderr.trim()}`);
    return res.stdout;
  }
}

function quote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
