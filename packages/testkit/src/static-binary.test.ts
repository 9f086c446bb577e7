import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadStaticBinary, parseElf } from './static-binary.js';

describe('loadStaticBinary', () => {
  it('accepts the static busybox and catatonit and reports their architecture', async () => {
    for (const [path, pkg] of [['/bin/busybox', 'busybox-static'], ['/usr/bin/catatonit', 'catatonit']] as const) {
      const binary = await loadStaticBinary(path, pkg);
      assert.deepEqual(binary.data, readFileSync(path));
      assert.equal(binary.architecture, { x64: 'amd64', arm64: 'arm64' }[process.arch as string] ?? binary.architecture);
    }
  });

  it('refuses a dynamically linked executable, naming the package to install', async () => {
    // Node itself is dynamically linked on Debian: it has a PT_INTERP header.
    assert.equal(parseElf(readFileSync(process.execPath))?.hasInterpreter, true);
    await assert.rejects(loadStaticBinary(process.execPath, 'busybox-static'), /dynamically linked.*install busybox-static/);
  });

  it('refuses a missing file and a file that is not ELF', async () => {
    await assert.rejects(loadStaticBinary('/nonexistent/busybox', 'busybox-static'), /install busybox-static/);
    await assert.rejects(loadStaticBinary('/etc/passwd', 'catatonit'), /not an ELF executable: install catatonit/);
  });
});
