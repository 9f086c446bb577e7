import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { annotationPatternRegExp, isAnnotationPattern, passthroughAnnotations } from './annotation-patterns.js';

describe('passthroughAnnotations', () => {
  const annotations = { 'io.katacontainers.config.hypervisor.x': '1', 'example.com/a': '2', 'example.com/a/b': '3', 'ex.com/z': '4', 'a.b': '5' };
  it('passes nothing without patterns', () => {
    assert.deepEqual(passthroughAnnotations(annotations, []), {});
  });
  it('matches as Go path.Match: * and ? stop at "/", classes, escapes', () => {
    assert.deepEqual(Object.keys(passthroughAnnotations(annotations, ['io.katacontainers.*'])), ['io.katacontainers.config.hypervisor.x']);
    assert.deepEqual(Object.keys(passthroughAnnotations(annotations, ['example.com/*'])), ['example.com/a']);
    assert.deepEqual(Object.keys(passthroughAnnotations(annotations, ['*/*/*'])), ['example.com/a/b']);
    assert.deepEqual(Object.keys(passthroughAnnotations(annotations, ['e?.com/[x-z]'])), ['ex.com/z']);
    assert.deepEqual(Object.keys(passthroughAnnotations(annotations, ['ex.com/[^a]'])), ['ex.com/z']);
    assert.deepEqual(Object.keys(passthroughAnnotations(annotations, ['a\\.b'])), ['a.b']);
    // "." is literal, not "any character".
    assert.deepEqual(passthroughAnnotations({ axb: '1' }, ['a.b']), {});
  });
  it('refuses malformed patterns', () => {
    assert.equal(isAnnotationPattern('a['), false);
    assert.equal(isAnnotationPattern('a\\'), false);
    assert.equal(isAnnotationPattern('[]'), false);
    assert.equal(isAnnotationPattern('io.kubernetes.cri.*'), true);
    assert.throws(() => annotationPatternRegExp('x[a'), /unclosed/);
  });
});
