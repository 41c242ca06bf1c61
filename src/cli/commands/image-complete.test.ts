import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseImageCompleteArguments } from './image-complete.js';

test('vireo image complete takes a user, password and keys files, a size and an output', () => {
  assert.deepEqual(parseImageCompleteArguments([]), {});
  assert.deepEqual(
    parseImageCompleteArguments(['--user', 'alice', '--password-file', 'pw.txt', '--authorized-keys', 'keys.pub', '--size', '8', '--output', 'out.qcow2']),
    { user: 'alice', passwordFile: 'pw.txt', authorizedKeysFile: 'keys.pub', sizeGiB: 8, output: 'out.qcow2' },
  );
});

test('vireo image complete refuses unknown arguments, missing values and a size that is not a whole number', () => {
  assert.throws(() => parseImageCompleteArguments(['--colour', 'red']), /unexpected argument --colour/);
  assert.throws(() => parseImageCompleteArguments(['--user']), /--user needs a value/);
  assert.throws(() => parseImageCompleteArguments(['--size', '2.5']), /whole number of GiB, not 2\.5/);
  assert.throws(() => parseImageCompleteArguments(['extra']), /unexpected argument extra/);
});
