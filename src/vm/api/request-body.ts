// Reading a request's JSON body within a size limit: a body that is too large, not JSON, or
// sent with another content type is refused before any handler sees it.

import type { IncomingMessage } from 'node:http';
import { VmApiError } from './vm-api-error.js';

/** Requests are a few small fields; anything larger is a mistake or an attack. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Whether the request carries a body at all (a length over 0, or chunked). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Checks the headers of a body before reading it: its type and declared length. */
export function checkBodyHeaders(req: IncomingMessage): void {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new VmApiError('unsupported-media-type', `the body is ${type === '' ? 'of no declared type' : type}; send it as application/json`);
  }
  const length = Number(req.headers['content-length'] ?? 0);
  if (length > MAX_BODY_BYTES) throw tooLarge(`${length} bytes`);
}

/**
 * Reads and parses the body (after checkBodyHeaders). Rejects a body over the limit as soon as
 * it is, without destroying the request, so the 413 can still be answered; rejects too when the
 * client goes away before the end.
 */
export function readJsonBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const fail = (error: VmApiError): void => {
      if (settled) return;
      settled = true;
      chunks.length = 0;
      reject(error);
    };
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) fail(tooLarge(`over ${MAX_BODY_BYTES} bytes`));
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown);
      } catch (e) {
        reject(new VmApiError('invalid-json', `the body is not valid JSON: ${(e as Error).message}`, {}, { cause: e }));
      }
    });
    const gone = (): void => fail(new VmApiError('invalid-body', 'the client closed the connection before the end of the body'));
    req.on('error', gone);
    req.on('close', gone);
  });
}

function tooLarge(size: string): VmApiError {
  return new VmApiError('body-too-large', `the body is ${size}; requests to the VM API are at most ${MAX_BODY_BYTES} bytes`);
}
