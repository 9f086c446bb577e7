import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorKind, InvalidArgumentError } from '@crikit/core';
import { ImageReference } from './image-reference.js';

const HEX = 'a'.repeat(64);
const DIGEST = `sha256:${HEX}`;

/** input → [normalised string, registry, repository, tag, digest, familiar name] */
const good: [string, string, string, string, string | undefined, string | undefined, string][] = [
  ['busybox', 'docker.io/library/busybox:latest', 'docker.io', 'library/busybox', 'latest', undefined, 'busybox'],
  ['busybox:1.36', 'docker.io/library/busybox:1.36', 'docker.io', 'library/busybox', '1.36', undefined, 'busybox'],
  ['user/repo', 'docker.io/user/repo:latest', 'docker.io', 'user/repo', 'latest', undefined, 'user/repo'],
  ['docker.io/busybox', 'docker.io/library/busybox:latest', 'docker.io', 'library/busybox', 'latest', undefined, 'busybox'],
  ['docker.io/library/busybox:latest', 'docker.io/library/busybox:latest', 'docker.io', 'library/busybox', 'latest', undefined, 'busybox'],
  ['index.docker.io/user/repo', 'docker.io/user/repo:latest', 'docker.io', 'user/repo', 'latest', undefined, 'user/repo'],
  ['index.docker.io/busybox', 'docker.io/library/busybox:latest', 'docker.io', 'library/busybox', 'latest', undefined, 'busybox'],
  ['registry.k8s.io/pause:3.10', 'registry.k8s.io/pause:3.10', 'registry.k8s.io', 'pause', '3.10', undefined, 'registry.k8s.io/pause'],
  ['127.0.0.1:5000/busybox', '127.0.0.1:5000/busybox:latest', '127.0.0.1:5000', 'busybox', 'latest', undefined, '127.0.0.1:5000/busybox'],
  ['localhost/foo', 'localhost/foo:latest', 'localhost', 'foo', 'latest', undefined, 'localhost/foo'],
  ['localhost:5000/a/b/c:v1', 'localhost:5000/a/b/c:v1', 'localhost:5000', 'a/b/c', 'v1', undefined, 'localhost:5000/a/b/c'],
  ['[::1]:5000/foo', '[::1]:5000/foo:latest', '[::1]:5000', 'foo', 'latest', undefined, '[::1]:5000/foo'],
  ['Example.com/foo', 'Example.com/foo:latest', 'Example.com', 'foo', 'latest', undefined, 'Example.com/foo'],
  ['EXAMPLE/foo', 'EXAMPLE/foo:latest', 'EXAMPLE', 'foo', 'latest', undefined, 'EXAMPLE/foo'],
  [`busybox@${DIGEST}`, `docker.io/library/busybox@${DIGEST}`, 'docker.io', 'library/busybox', undefined, DIGEST, 'busybox'],
  [`busybox:1.36@${DIGEST}`, `docker.io/library/busybox:1.36@${DIGEST}`, 'docker.io', 'library/busybox', '1.36', DIGEST, 'busybox'],
  [`h:5/r@${DIGEST}`, `h:5/r@${DIGEST}`, 'h:5', 'r', undefined, DIGEST, 'h:5/r'],
  [`r@sha512:${'b'.repeat(128)}`, `docker.io/library/r@sha512:${'b'.repeat(128)}`, 'docker.io', 'library/r', undefined, `sha512:${'b'.repeat(128)}`, 'r'],
  ['a/b_c/d__e/f-g/h--i/j.k', 'docker.io/a/b_c/d__e/f-g/h--i/j.k:latest', 'docker.io', 'a/b_c/d__e/f-g/h--i/j.k', 'latest', undefined, 'a/b_c/d__e/f-g/h--i/j.k'],
  ['foo:Tag_With.Mixed-Case', 'docker.io/library/foo:Tag_With.Mixed-Case', 'docker.io', 'library/foo', 'Tag_With.Mixed-Case', undefined, 'foo'],
  [`foo:${'t'.repeat(128)}`, `docker.io/library/foo:${'t'.repeat(128)}`, 'docker.io', 'library/foo', 't'.repeat(128), undefined, 'foo'],
  ['localhost:5000', 'docker.io/library/localhost:5000', 'docker.io', 'library/localhost', '5000', undefined, 'localhost'],
  ['docker.io/library/a/b', 'docker.io/library/a/b:latest', 'docker.io', 'library/a/b', 'latest', undefined, 'library/a/b'],
];

/** input → a fragment of the reason */
const bad: [string, string][] = [
  ['', 'empty'],
  [' busybox', 'whitespace'],
  ['Busybox', 'lowercase'],
  ['user/Repo', 'lowercase'],
  ['docker.io/Library/busybox', 'lowercase'],
  [HEX, 'image id'],
  ['busybox:', 'invalid tag'],
  ['busybox:-x', 'invalid tag'],
  ['busybox:.x', 'invalid tag'],
  [`busybox:${'t'.repeat(129)}`, 'invalid tag'],
  ['busybox@sha256:abc', 'invalid digest'],
  [`busybox@sha256:${'A'.repeat(64)}`, 'lowercase hexadecimal'],
  [`busybox@md5:${'a'.repeat(32)}`, 'unsupported digest algorithm'],
  ['busybox@', 'invalid digest'],
  [`busybox@sha256:${'a'.repeat(63)}`, 'sha256 needs 64'],
  ['a//b', 'invalid repository'],
  ['a/b/', 'invalid repository'],
  ['/a', 'invalid repository'],
  ['a/-b', 'invalid repository'],
  ['a/b_', 'invalid repository'],
  ['a/b___c', 'invalid repository'],
  ['-host.io/a', 'invalid registry host'],
  ['host.io:port/a', 'invalid registry host'],
  ['host.io/', 'missing repository'],
  [`host.io/${'a'.repeat(250)}`, 'longer than 255'],
  ['a b', 'invalid repository'],
];

describe('ImageReference.parse', () => {
  for (const [input, normalised, registry, repository, tag, digest, familiarName] of good) {
    it(`accepts ${JSON.stringify(input)}`, () => {
      const ref = ImageReference.parse(input);
      assert.equal(ref.toString(), normalised);
      assert.equal(ref.registry, registry);
      assert.equal(ref.repository, repository);
      assert.equal(ref.tag, tag);
      assert.equal(ref.digest, digest);
      assert.equal(ref.familiarName, familiarName);
      // Normalisation is idempotent.
      assert.equal(ImageReference.parse(normalised).toString(), normalised);
    });
  }

  for (const [input, why] of bad) {
    it(`refuses ${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input)}`, () => {
      assert.throws(() => ImageReference.parse(input), (err: unknown) => {
        assert.ok(err instanceof InvalidArgumentError);
        assert.equal(errorKind(err), 'invalid-argument');
        assert.ok(err.message.startsWith(`parse image reference "${input}": `), err.message);
        assert.ok(err.message.includes(why), `"${err.message}" should say "${why}"`);
        return true;
      });
    });
  }
});

describe('ImageReference', () => {
  it('fetches by digest when it has one, else by tag', () => {
    assert.equal(ImageReference.parse('busybox').object, 'latest');
    assert.equal(ImageReference.parse(`busybox:1@${DIGEST}`).object, DIGEST);
  });

  it('writes the familiar form with tag and digest', () => {
    assert.equal(ImageReference.parse('docker.io/library/busybox:1').familiar, 'busybox:1');
    assert.equal(ImageReference.parse(`quay.io/a/b@${DIGEST}`).familiar, `quay.io/a/b@${DIGEST}`);
  });

  it('pins to a digest without the tag, and retags without the digest', () => {
    const ref = ImageReference.parse('127.0.0.1:5000/busybox:1');
    assert.equal(ref.withDigest(DIGEST).toString(), `127.0.0.1:5000/busybox@${DIGEST}`);
    assert.equal(ref.withDigest(DIGEST).withTag('2').toString(), '127.0.0.1:5000/busybox:2');
    assert.throws(() => ref.withDigest('sha256:zz'), InvalidArgumentError);
    assert.throws(() => ref.withTag('-'), InvalidArgumentError);
  });

  it('serialises as its string', () => {
    assert.equal(JSON.stringify({ ref: ImageReference.parse('busybox') }), '{"ref":"docker.io/library/busybox:latest"}');
    assert.equal(`${ImageReference.parse('busybox')}`, 'docker.io/library/busybox:latest');
  });
});
