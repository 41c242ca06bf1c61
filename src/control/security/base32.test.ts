import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { decodeBase32, encodeBase32 } from './base32.js';
import { SecurityError } from './security-error.js';

// RFC 4648 section 10, without the padding this encoder leaves off.
const VECTORS: [string, string][] = [
  ['', ''],
  ['f', 'MY'],
  ['fo', 'MZXQ'],
  ['foo', 'MZXW6'],
  ['foob', 'MZXW6YQ'],
  ['fooba', 'MZXW6YTB'],
  ['foobar', 'MZXW6YTBOI'],
];

test('RFC 4648 test vectors encode without padding and decode back', () => {
  for (const [plain, encoded] of VECTORS) {
    assert.equal(encodeBase32(Buffer.from(plain)), encoded);
    assert.equal(decodeBase32(encoded).toString(), plain);
  }
});

test('decoding accepts lower case, spaces, dashes and padding', () => {
  assert.equal(decodeBase32('mzxw 6ytb oi======').toString(), 'foobar');
  assert.equal(decodeBase32('MZXW-6YTB-OI').toString(), 'foobar');
  assert.equal(decodeBase32('my======').toString(), 'f');
});

test('random byte strings of every length round-trip', () => {
  for (let n = 0; n < 64; n++) {
    const bytes = randomBytes(n);
    assert.deepEqual(decodeBase32(encodeBase32(bytes)), bytes);
  }
});

test('bad characters and impossible lengths are refused with clear errors', () => {
  const fails = (text: string, message: RegExp) =>
    assert.throws(() => decodeBase32(text), (e: unknown) => e instanceof SecurityError && e.kind === 'bad-encoding' && message.test(e.message));
  fails('MZXW1YTB', /"1" at position 4 is not a base32 character/);
  fails('MZXW8YTB', /"8" at position 4/);
  fails('MZ=XW6', /'=' before the end at position 2/);
  fails('MZXW6YTBO', /9 characters cannot encode whole bytes/);
  fails('M', /1 characters/);
});
