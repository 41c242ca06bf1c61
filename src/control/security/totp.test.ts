import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeBase32 } from './base32.js';
import { SecurityError } from './security-error.js';
import { generateTotpSecret, hotp, otpauthUri, totpCode, totpStep, verifyTotp } from './totp.js';

const RFC_SECRET = Buffer.from('12345678901234567890');

test('RFC 4226 Appendix D: HOTP values for counters 0 to 9', () => {
  const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
  expected.forEach((code, counter) => assert.equal(hotp(RFC_SECRET, counter), code));
});

// RFC 6238 Appendix B, SHA-1 rows: unix seconds and the 8-digit TOTP.
const RFC6238: [number, string][] = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

test('RFC 6238 Appendix B: 8-digit codes, and the 6-digit code is their last six digits', () => {
  for (const [seconds, code] of RFC6238) {
    assert.equal(hotp(RFC_SECRET, totpStep(seconds * 1000), 8), code, `t=${seconds}`);
    assert.equal(totpCode(RFC_SECRET, seconds * 1000), code.slice(2), `t=${seconds}`);
  }
});

test('a code is accepted in its own step and one step either side, not two', () => {
  const t = 1234567890_000;
  const code = totpCode(RFC_SECRET, t);
  assert.deepEqual(verifyTotp(RFC_SECRET, code, t, null), { ok: true, step: totpStep(t) });
  assert.deepEqual(verifyTotp(RFC_SECRET, code, t + 30_000, null), { ok: true, step: totpStep(t) });
  assert.deepEqual(verifyTotp(RFC_SECRET, code, t - 30_000, null), { ok: true, step: totpStep(t) });
  assert.deepEqual(verifyTotp(RFC_SECRET, code, t + 60_000, null), { ok: false });
  assert.deepEqual(verifyTotp(RFC_SECRET, code, t - 60_000, null), { ok: false });
});

test('a code is never accepted twice, nor one from a step before the last accepted', () => {
  const t = 2000000000_000;
  const first = verifyTotp(RFC_SECRET, totpCode(RFC_SECRET, t), t, null);
  assert.ok(first.ok);
  assert.deepEqual(verifyTotp(RFC_SECRET, totpCode(RFC_SECRET, t), t, first.step), { ok: false });
  // The previous step's code is within the window but older than what was accepted.
  assert.deepEqual(verifyTotp(RFC_SECRET, totpCode(RFC_SECRET, t - 30_000), t, first.step), { ok: false });
  // The next step's code is fresh.
  assert.deepEqual(verifyTotp(RFC_SECRET, totpCode(RFC_SECRET, t + 30_000), t + 30_000, first.step), { ok: true, step: first.step + 1 });
});

test('wrong, malformed and other-secret codes are refused; spaces inside a code are allowed', () => {
  const t = 1111111111_000;
  const code = totpCode(RFC_SECRET, t);
  const wrong = ((Number(code) + 1) % 1_000_000).toString().padStart(6, '0');
  assert.deepEqual(verifyTotp(RFC_SECRET, wrong, t, null), { ok: false });
  assert.deepEqual(verifyTotp(RFC_SECRET, code.slice(0, 5), t, null), { ok: false });
  assert.deepEqual(verifyTotp(RFC_SECRET, `${code}0`, t, null), { ok: false });
  assert.deepEqual(verifyTotp(RFC_SECRET, 'abcdef', t, null), { ok: false });
  assert.deepEqual(verifyTotp(generateTotpSecret(), code, t, null), { ok: false });
  assert.equal(verifyTotp(RFC_SECRET, `${code.slice(0, 3)} ${code.slice(3)}`, t, null).ok, true);
});

test('secrets are 20 random bytes', () => {
  const a = generateTotpSecret();
  assert.equal(a.length, 20);
  assert.notDeepEqual(a, generateTotpSecret());
});

test('the otpauth URI follows the Key Uri Format and carries the secret in base32', () => {
  const uri = otpauthUri(RFC_SECRET, 'alice@example.com', 'Vireo Master');
  assert.equal(uri, 'otpauth://totp/Vireo%20Master:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Vireo%20Master&algorithm=SHA1&digits=6&period=30');
  const parsed = new URL(uri);
  assert.deepEqual(decodeBase32(parsed.searchParams.get('secret')!), RFC_SECRET);
  assert.throws(() => otpauthUri(RFC_SECRET, 'a:b', 'Vireo'), (e: unknown) => e instanceof SecurityError && e.kind === 'bad-argument');
  assert.throws(() => otpauthUri(RFC_SECRET, 'alice', ''), SecurityError);
});
