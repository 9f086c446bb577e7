import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containerRecord, sandboxRecord } from '../testing/record-builders.js';
import { sandboxStoreWith } from '../testing/store-builders.js';
import { encodeContainerMetadata, encodeContainerStatus } from './container-codec.js';
import { recoverContainerRecord, recoverSandboxRecord } from './recover-records.js';
import { encodeSandboxMetadata, encodeSandboxStatus } from './sandbox-codec.js';

describe('recoverSandboxRecord', () => {
  it('restores a record whose documents decode', () => {
    const original = sandboxRecord({ status: { state: 'notready', exitedAt: 5n } });
    const { record, problems } = recoverSandboxRecord({
      id: original.metadata.id,
      metadata: JSON.parse(JSON.stringify(encodeSandboxMetadata(original.metadata))),
      status: JSON.parse(JSON.stringify(encodeSandboxStatus(original.status))),
    });
    assert.deepEqual(problems, []);
    assert.deepEqual(record, original);
  });

  it('loads a corrupt record as unknown instead of dropping it', () => {
    const id = 'c'.repeat(64);
    const { record, problems } = recoverSandboxRecord({ id, metadata: { version: 1, id, name: 42 }, status: { garbage: true }, createdAt: 7n });
    assert.equal(record.status.state, 'unknown');
    assert.equal(record.metadata.id, id);
    assert.equal(record.metadata.name, id);
    assert.equal(record.metadata.createdAt, 7n);
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /decode sandbox metadata/);
    // The placeholder can be stored next to real sandboxes and removed like any other.
    const store = sandboxStoreWith([sandboxRecord(), record]);
    assert.equal(store.get(id.slice(0, 8)).status.state, 'unknown');
  });

  it('treats metadata stored on the wrong container as corrupt', () => {
    const other = sandboxRecord();
    const { record, problems } = recoverSandboxRecord({ id: 'd'.repeat(64), metadata: encodeSandboxMetadata(other.metadata) });
    assert.equal(record.status.state, 'unknown');
    assert.match(problems[0] ?? '', /not "d+"/);
  });

  it('keeps good metadata with state unknown when the status is missing or corrupt', () => {
    const original = sandboxRecord();
    const missing = recoverSandboxRecord({ id: original.metadata.id, metadata: encodeSandboxMetadata(original.metadata) });
    assert.deepEqual(missing.problems, []);
    assert.equal(missing.record.status.state, 'unknown');
    assert.deepEqual(missing.record.metadata, original.metadata);
    const corrupt = recoverSandboxRecord({ id: original.metadata.id, metadata: encodeSandboxMetadata(original.metadata), status: { version: 9 } });
    assert.equal(corrupt.record.status.state, 'unknown');
    assert.equal(corrupt.problems.length, 1);
  });
});

describe('recoverContainerRecord', () => {
  it('restores a record whose documents decode', () => {
    const original = containerRecord({ status: { state: 'exited', exitCode: 3, finishedAt: 10n, reason: 'Error' } });
    const { record, problems } = recoverContainerRecord({
      id: original.metadata.id,
      metadata: encodeContainerMetadata(original.metadata),
      status: encodeContainerStatus(original.status),
    });
    assert.deepEqual(problems, []);
    assert.deepEqual(record, original);
  });

  it('loads a corrupt record as unknown, keeping the sandbox id it was labelled with', () => {
    const id = 'e'.repeat(64);
    const { record, problems } = recoverContainerRecord({ id, sandboxId: 'f'.repeat(64), metadata: 'not json at all' });
    assert.equal(record.status.state, 'unknown');
    assert.equal(record.metadata.sandboxId, 'f'.repeat(64));
    assert.equal(record.metadata.name, id);
    assert.equal(problems.length, 1);
  });
});
