import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWwwAuthenticate } from './www-authenticate.js';

describe('parseWwwAuthenticate', () => {
  it('parses a Docker Hub bearer challenge', () => {
    assert.deepEqual(parseWwwAuthenticate(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"'),
    [{ scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } }]);
  });

  it('parses basic, case-insensitive names, spaces and unquoted values', () => {
    assert.deepEqual(parseWwwAuthenticate('Basic realm="Registry Realm"'), [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
    assert.deepEqual(parseWwwAuthenticate('BEARER  Realm = "r" , Service=svc'), [{ scheme: 'bearer', params: { realm: 'r', service: 'svc' } }]);
  });

  it('unescapes quoted strings and keeps commas inside them', () => {
    assert.deepEqual(parseWwwAuthenticate('Bearer realm="a\\"b",scope="repository:a:pull,push repository:b:pull"'),
      [{ scheme: 'bearer', params: { realm: 'a"b', scope: 'repository:a:pull,push repository:b:pull' } }]);
  });

  it('splits several challenges in one header and across headers', () => {
    assert.deepEqual(parseWwwAuthenticate('Basic realm="x", Bearer realm="https://t/token",service="s"'), [
      { scheme: 'basic', params: { realm: 'x' } },
      { scheme: 'bearer', params: { realm: 'https://t/token', service: 's' } },
    ]);
    assert.deepEqual(parseWwwAuthenticate(['Negotiate', 'Bearer realm="r"']), [
      { scheme: 'negotiate', params: {} },
      { scheme: 'bearer', params: { realm: 'r' } },
    ]);
  });

  it('tolerates empty and malformed headers', () => {
    assert.deepEqual(parseWwwAuthenticate(undefined), []);
    assert.deepEqual(parseWwwAuthenticate(''), []);
    assert.deepEqual(parseWwwAuthenticate('Bearer realm="unterminated'), [{ scheme: 'bearer', params: { realm: 'unterminated' } }]);
    assert.deepEqual(parseWwwAuthenticate('"junk" Basic'), [{ scheme: 'junk', params: {} }, { scheme: 'basic', params: {} }]);
  });
});
