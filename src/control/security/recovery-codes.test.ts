import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findRecoveryCode, generateRecoveryCodes, hashRecoveryCode, normalizeRecoveryCode } from './recovery-codes.js';

test('ten distinct xxxxx-xxxxx codes from the unambiguous alphabet, and only hashes to store', () => {
  const { codes, hashes } = generateRecoveryCodes();
  assert.equal(codes.length, 10);
  assert.equal(new Set(codes).size, 10);
  for (const code of codes) assert.match(code, /^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$/);
  assert.deepEqual(hashes, codes.map(hashRecoveryCode));
  for (const [i, hash] of hashes.entries()) {
    assert.match(hash, /^[0-9a-f]{64}$/);
    assert.ok(!hash.includes(codes[i]!.replace('-', '')));
  }
});

test('codes carry 50 random bits: every alphabet character shows up in every position', () => {
  const seen = Array.from({ length: 10 }, () => new Set<string>());
  for (let i = 0; i < 200; i++) {
    for (const code of generateRecoveryCodes().codes) [...code.replace('-', '')].forEach((c, p) => seen[p]!.add(c));
  }
  for (const chars of seen) assert.equal(chars.size, 32);
});

test('input is normalized: case, dashes, spaces, and o/i/l read as 0/1', () => {
  assert.equal(normalizeRecoveryCode('AB0C1-DEF23'), 'ab0c1def23');
  assert.equal(normalizeRecoveryCode(' ab0c1 def23 '), 'ab0c1def23');
  assert.equal(normalizeRecoveryCode('abOcI-deF23'), 'ab0c1def23');
  assert.equal(normalizeRecoveryCode('abocl-def23'), 'ab0c1def23');
  assert.equal(normalizeRecoveryCode('ab0c1-def2'), null);
  assert.equal(normalizeRecoveryCode('ab0c1-def234'), null);
  assert.equal(normalizeRecoveryCode('ab0c1-def2u'), null);
  assert.equal(normalizeRecoveryCode('ab0c1-def2!'), null);
});

test('a code is found however it is typed, and only while unused', () => {
  const { codes, hashes } = generateRecoveryCodes();
  const rows = hashes.map((code_hash, i) => ({ id: `r${i}`, code_hash, used_at: null as string | null }));
  assert.equal(findRecoveryCode(codes[3]!, rows), 'r3');
  assert.equal(findRecoveryCode(codes[7]!.toUpperCase().replace('-', ' '), rows), 'r7');
  rows[3]!.used_at = '2026-01-01T00:00:00.000Z';
  assert.equal(findRecoveryCode(codes[3]!, rows), null);
  assert.equal(findRecoveryCode(generateRecoveryCodes(1).codes[0]!, rows), null);
  assert.equal(findRecoveryCode('', rows), null);
  assert.equal(findRecoveryCode(codes[0]!, []), null);
});
