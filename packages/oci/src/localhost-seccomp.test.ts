import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InvalidArgumentError, NotFoundError } from '@crikit/core';
import { loadLocalhostSeccompProfile, parseSeccompProfile } from './localhost-seccomp.js';

describe('parseSeccompProfile', () => {
  it('reads the OCI form and drops docker-only keys and nulls', () => {
    const profile = parseSeccompProfile(JSON.stringify({
      defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1, architectures: ['SCMP_ARCH_X86_64'], archMap: [{}], flags: null,
      syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: null, includes: { caps: ['CAP_X'] }, comment: 'c' }],
    }));
    assert.deepEqual(profile, {
      defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1, architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }],
    });
  });

  it('refuses what is not a profile', () => {
    assert.throws(() => parseSeccompProfile('{'), InvalidArgumentError);
    assert.throws(() => parseSeccompProfile('{}'), InvalidArgumentError);
    assert.throws(() => parseSeccompProfile('{"defaultAction":"ALLOW"}'), InvalidArgumentError);
    assert.throws(() => parseSeccompProfile('{"defaultAction":"SCMP_ACT_LOG","syscalls":[{"names":[],"action":"SCMP_ACT_ALLOW"}]}'), InvalidArgumentError);
  });
});

describe('loadLocalhostSeccompProfile', () => {
  it('loads a file, with or without the localhost/ prefix', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seccomp-'));
    const file = join(dir, 'p.json');
    await writeFile(file, '{"defaultAction":"SCMP_ACT_LOG"}');
    assert.deepEqual(await loadLocalhostSeccompProfile(file), { defaultAction: 'SCMP_ACT_LOG' });
    assert.deepEqual(await loadLocalhostSeccompProfile(`localhost/${file}`), { defaultAction: 'SCMP_ACT_LOG' });
    await assert.rejects(loadLocalhostSeccompProfile(join(dir, 'missing.json')), NotFoundError);
    await writeFile(file, 'nope');
    await assert.rejects(loadLocalhostSeccompProfile(file), InvalidArgumentError);
  });
});
