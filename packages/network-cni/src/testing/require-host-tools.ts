import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/**
 * For integration tests: fails (never skips) unless the process is root and every tool is on PATH
 * (or, for paths, exists), with a message saying what to install.
 */
export function requireHostTools(tools: readonly string[], install: string): void {
  assert.equal(process.getuid?.(), 0, 'these tests need root (network namespaces, mounts, iptables)');
  for (const tool of tools) {
    const found = tool.startsWith('/') ? fs.existsSync(tool) : hasCommand(tool);
    if (!found) assert.fail(`these tests need "${tool}": ${install}`);
  }
}

function hasCommand(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v '${tool}'`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
