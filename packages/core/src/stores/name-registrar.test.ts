import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AlreadyExistsError } from '../errors.js';
import { NameRegistrar } from './name-registrar.js';

describe('NameRegistrar', () => {
  it('reserves a name for an id and looks it up both ways', () => {
    const names = new NameRegistrar<string>('sandbox');
    names.reserve('nginx_default_uid_0', 'id-1');
    assert.equal(names.lookup('nginx_default_uid_0'), 'id-1');
    assert.equal(names.nameOf('id-1'), 'nginx_default_uid_0');
  });

  it('is idempotent for the same id', () => {
    const names = new NameRegistrar<string>('sandbox');
    names.reserve('a', 'id-1');
    names.reserve('a', 'id-1');
    assert.equal(names.size, 1);
  });

  it('refuses a name held by another id, naming the holder', () => {
    const names = new NameRegistrar<string>('sandbox');
    names.reserve('a', 'id-1');
    assert.throws(() => names.reserve('a', 'id-2'), (err: unknown) =>
      err instanceof AlreadyExistsError && err.message.includes('"id-1"') && err.message.includes('"a"'));
    assert.equal(names.lookup('a'), 'id-1');
  });

  it('refuses a second name for an id', () => {
    const names = new NameRegistrar<string>('container');
    names.reserve('a', 'id-1');
    assert.throws(() => names.reserve('b', 'id-1'), /already holds name "a"/);
    assert.equal(names.lookup('b'), undefined);
  });

  it('releases by id and by name, idempotently, freeing the name for another id', () => {
    const names = new NameRegistrar<string>('sandbox');
    names.reserve('a', 'id-1');
    names.reserve('b', 'id-2');
    names.releaseById('id-1');
    names.releaseById('id-1');
    names.releaseByName('b');
    names.releaseByName('b');
    assert.equal(names.size, 0);
    assert.equal(names.nameOf('id-2'), undefined);
    names.reserve('a', 'id-3');
    names.reserve('b', 'id-1');
    assert.equal(names.lookup('a'), 'id-3');
  });
});

