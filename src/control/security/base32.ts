// RFC 4648 section 6 base32, as authenticator apps exchange TOTP secrets: upper case and no
// padding out; lower case, spaces, dashes and trailing padding accepted in.

import { SecurityError } from './security-error.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function encodeBase32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(buffer >>> bits) & 31];
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

// The lengths (mod 8) a whole number of bytes encodes to: 0, 2, 4, 5, 7 characters.
const VALID_TAIL = new Set([0, 2, 4, 5, 7]);

/** Decodes base32 text; throws a SecurityError 'bad-encoding' naming the first bad character. */
export function decodeBase32(text: string): Buffer {
  const compact = text.replace(/[\s-]/g, '').toUpperCase();
  const data = compact.replace(/=+$/, '');
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (let i = 0; i < data.length; i++) {
    const value = ALPHABET.indexOf(data[i]!);
    if (value < 0) {
      const shown = data[i] === '=' ? "'=' before the end" : JSON.stringify(data[i]);
      throw new SecurityError('bad-encoding', `base32: ${shown} at position ${i} is not a base32 character (A-Z, 2-7)`);
    }
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((buffer >>> bits) & 0xff);
    }
  }
  if (!VALID_TAIL.has(data.length % 8)) {
    throw new SecurityError('bad-encoding', `base32: ${data.length} characters cannot encode whole bytes (a character is missing or extra)`);
  }
  return Buffer.from(out);
}
