import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cri } from '@crikit/api';
import { InvalidArgumentError } from '@crikit/core';
import { groupsPolicy } from './groups-policy.js';

test('Merge (and an unset policy) and Strict are the two policies', () => {
  assert.equal(groupsPolicy(undefined, 'f'), 'merge');
  assert.equal(groupsPolicy(cri.SupplementalGroupsPolicy.Merge, 'f'), 'merge');
  assert.equal(groupsPolicy(cri.SupplementalGroupsPolicy.Strict, 'f'), 'strict');
});

test('any other value, as a newer kubelet could send, is refused naming the field', () => {
  for (const v of [2, 7, cri.SupplementalGroupsPolicy.UNRECOGNIZED] as cri.SupplementalGroupsPolicy[]) {
    assert.throws(() => groupsPolicy(v, 'linux.security_context.supplemental_groups_policy'),
      (e: Error) => e instanceof InvalidArgumentError && e.message.includes('supplemental_groups_policy') && e.message.includes(String(v)));
  }
});
