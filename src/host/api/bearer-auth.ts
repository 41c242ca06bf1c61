// Authentication of the agent's TCP listener, in one place in front of every route and the
// console: `Authorization: Bearer TOKEN`, compared in constant time. The Unix socket needs none:
// its mode 0600 already admits only the agent's user.

import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { HostError } from '../host-error.js';

/** A token is at least this long, so it cannot be guessed. */
const MIN_TOKEN_LENGTH = 16;

export type Authenticate = (req: IncomingMessage) => void;

/** Accepts every request (the Unix socket). */
export const OPEN: Authenticate = () => {};

/** Throws 'unauthorized' unless the request carries `token`. */
export function bearerAuth(token: string): Authenticate {
  // Digests of equal length, so neither the comparison nor its length check tells anything.
  const expected = createHash('sha256').update(token).digest();
  return (req) => {
    const match = /^Bearer\s+(\S+)\s*$/iu.exec(req.headers.authorization ?? '');
    const given = createHash('sha256').update(match?.[1] ?? '').digest();
    if (match === null || !timingSafeEqual(given, expected)) {
      throw new HostError('unauthorized', match === null ? 'this API needs Authorization: Bearer TOKEN (the token in the agent\'s --token-file)' : 'the bearer token is not this agent\'s');
    }
  };
}

/** Reads the token file: its first line, trimmed; refuses a missing or short token. */
export async function readTokenFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new HostError('io', `cannot read the token file ${path}: ${(e as Error).message}`, { path }, { cause: e });
  }
  const token = text.split('\n')[0]!.trim();
  if (token.length < MIN_TOKEN_LENGTH || /\s/u.test(token)) throw new HostError('invalid-request', `the token in ${path} must be one line of at least ${MIN_TOKEN_LENGTH} characters without spaces (for example: openssl rand -hex 32 > ${path})`, { path });
  return token;
}
