// Small secrets at rest (TOTP secrets, host agents' tokens), sealed with AES-256-GCM under the
// master's key. The associated data names where a value belongs (e.g. "users.totp_secret:<id>"),
// so a sealed value copied into another row or column does not open there.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { open as openFile } from 'node:fs/promises';
import { SecurityError } from './security-error.js';
import { writeFileAtomically } from './write-file-atomically.js';

export const MASTER_KEY_BYTES = 32;
const VERSION = 'v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

async function readMasterKey(path: string): Promise<Buffer> {
  const file = await openFile(path, 'r');
  try {
    const info = await file.stat();
    if (!info.isFile()) throw new SecurityError('bad-key-file', `master key ${path} is not a regular file`, { path });
    if ((info.mode & 0o077) !== 0) {
      const mode = (info.mode & 0o777).toString(8).padStart(4, '0');
      throw new SecurityError('bad-key-file', `master key ${path} has mode ${mode}: group and others may read it; run chmod 600 on it, and replace the key if anyone else may have read it`, { path });
    }
    if (info.size !== MASTER_KEY_BYTES) throw new SecurityError('bad-key-file', `master key ${path} holds ${info.size} bytes, not ${MASTER_KEY_BYTES}: it is not a key this master wrote`, { path });
    const key = Buffer.alloc(MASTER_KEY_BYTES);
    const { bytesRead } = await file.read(key, 0, MASTER_KEY_BYTES, 0);
    if (bytesRead !== MASTER_KEY_BYTES) throw new SecurityError('bad-key-file', `master key ${path}: read ${bytesRead} of ${MASTER_KEY_BYTES} bytes`, { path });
    return key;
  } finally {
    await file.close();
  }
}

/** The master's key from `path`, created (32 random bytes, mode 0600) when there is none. */
export async function loadOrCreateMasterKey(path: string): Promise<Buffer> {
  try {
    try {
      return await readMasterKey(path);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
    }
    // Two masters starting at once keep whichever key was linked into place first.
    await writeFileAtomically(path, randomBytes(MASTER_KEY_BYTES), 0o600, false);
    return await readMasterKey(path);
  } catch (error) {
    if (error instanceof SecurityError) throw error;
    throw new SecurityError('bad-key-file', `master key ${path}: ${(error as Error).message}`, { path, cause: error });
  }
}

function checkKey(key: Uint8Array): void {
  if (key.length !== MASTER_KEY_BYTES) throw new SecurityError('bad-argument', `a secret box key is ${MASTER_KEY_BYTES} bytes, not ${key.length}`);
}

/** `v1.` and base64url of nonce, ciphertext and tag; a fresh random nonce each time. */
export function seal(key: Uint8Array, plaintext: Uint8Array | string, associatedData: string): string {
  checkKey(key);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return `${VERSION}.${Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url')}`;
}

/** The plaintext of a value `seal` made with this key and associated data; throws 'tampered' otherwise. */
export function open(key: Uint8Array, sealed: string, associatedData: string): Buffer {
  checkKey(key);
  const dot = sealed.indexOf('.');
  const version = sealed.slice(0, dot);
  if (dot < 0 || version !== VERSION) throw new SecurityError('bad-sealed', `sealed value: version ${JSON.stringify(dot < 0 ? sealed.slice(0, 8) : version)} is not ${VERSION}`);
  const text = sealed.slice(dot + 1);
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new SecurityError('bad-sealed', 'sealed value: not base64url after the version');
  const raw = Buffer.from(text, 'base64url');
  if (raw.length < NONCE_BYTES + TAG_BYTES) throw new SecurityError('bad-sealed', `sealed value: ${raw.length} bytes is shorter than a nonce and a tag`);
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(associatedData, 'utf8'));
  decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)), decipher.final()]);
  } catch (error) {
    throw new SecurityError('tampered', `sealed value for ${JSON.stringify(associatedData)} did not authenticate: it was altered, sealed under another key, or belongs elsewhere`, { cause: error });
  }
}
