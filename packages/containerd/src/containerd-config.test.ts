import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containerdConfigSchema } from './containerd-config.js';

/** The paths of the issues a refused input produced. */
function refusedAt(input: unknown): string[] {
  const result = containerdConfigSchema.safeParse(input);
  assert.equal(result.success, false, 'expected the input to be refused');
  return result.error!.issues.map(issue => issue.path.join('.'));
}

describe('containerdConfigSchema', () => {
  it('supplies every default', () => {
    assert.deepEqual(containerdConfigSchema.parse({}), {
      address: 'managed',
      namespace: 'k8s.io',
      connectTimeoutMs: 10_000,
      managed: {
        binary: 'containerd',
        rootDir: '/var/lib/crikit/containerd',
        stateDir: '/run/crikit/containerd',
        startTimeoutMs: 30_000,
        stopTimeoutMs: 10_000,
        logLevel: 'warn',
        snapshotter: 'overlayfs',
      },
    });
  });

  it('fills the managed defaults around a partial managed section', () => {
    const config = containerdConfigSchema.parse({ managed: { logLevel: 'debug', rootDir: '/tmp/ctd/root' } });
    assert.equal(config.managed.logLevel, 'debug');
    assert.equal(config.managed.rootDir, '/tmp/ctd/root');
    assert.equal(config.managed.stateDir, '/run/crikit/containerd');
  });

  it('accepts a socket path, with or without unix://', () => {
    assert.equal(containerdConfigSchema.parse({ address: '/run/containerd/containerd.sock' }).address,
      '/run/containerd/containerd.sock');
    assert.equal(containerdConfigSchema.parse({ address: 'unix:///run/containerd/containerd.sock' }).address,
      'unix:///run/containerd/containerd.sock');
  });

  it('accepts containerd identifiers as namespaces', () => {
    for (const namespace of ['k8s.io', 'default', 'crikit-test_1']) {
      assert.equal(containerdConfigSchema.parse({ namespace }).namespace, namespace);
    }
  });

  it('refuses a namespace that is not a string', () => {
    assert.deepEqual(refusedAt({ namespace: 42 }), ['namespace']);
  });

  it('refuses a namespace containerd would refuse', () => {
    for (const namespace of ['', 'k8s..io', '-x', 'a/b', 'x'.repeat(77)]) {
      assert.deepEqual(refusedAt({ namespace }), ['namespace'], namespace);
    }
  });

  it('refuses a relative or too long socket path', () => {
    assert.deepEqual(refusedAt({ address: 'containerd.sock' }), ['address']);
    assert.deepEqual(refusedAt({ address: 'tcp://127.0.0.1:1234' }), ['address']);
    assert.deepEqual(refusedAt({ address: `/${'x'.repeat(120)}` }), ['address']);
  });

  it('refuses a state dir whose sockets would not fit in a unix socket path', () => {
    assert.deepEqual(refusedAt({ managed: { stateDir: `/${'s'.repeat(90)}` } }), ['managed.stateDir']);
  });

  it('refuses relative managed dirs', () => {
    assert.deepEqual(refusedAt({ managed: { rootDir: 'var/lib/x' } }), ['managed.rootDir']);
  });

  it('refuses bad timeouts and an unknown log level', () => {
    assert.deepEqual(refusedAt({ connectTimeoutMs: 0 }), ['connectTimeoutMs']);
    assert.deepEqual(refusedAt({ connectTimeoutMs: '10s' }), ['connectTimeoutMs']);
    assert.deepEqual(refusedAt({ managed: { stopTimeoutMs: 1.5 } }), ['managed.stopTimeoutMs']);
    assert.deepEqual(refusedAt({ managed: { logLevel: 'trace' } }), ['managed.logLevel']);
  });

  it('refuses unknown keys, so a misspelt key is reported', () => {
    assert.deepEqual(refusedAt({ namspace: 'k8s.io' }), ['']);
    assert.deepEqual(refusedAt({ managed: { root: '/x' } }), ['managed']);
  });
});
