// Sizes on the command line as qemu-img takes them: bytes, or a number with a binary suffix
// K, M, G or T (1024-based); a fraction is allowed when the result is whole bytes (1.5G).

import { UsageError } from '../../usage-error.js';

const UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** Parses `text` as a size in bytes; `what` names it in the error ("the size", "--cluster-size"). */
export function parseSize(command: string, text: string, what: string): number {
  const match = /^(\d+(?:\.\d+)?)([kmgt]?)$/i.exec(text);
  const bytes = match === null ? NaN : Number(match[1]) * UNITS[match[2]!.toLowerCase()]!;
  if (!Number.isSafeInteger(bytes)) {
    throw new UsageError(command, `${what} must be a number of bytes with an optional suffix K, M, G or T (powers of 1024), for example 10G; got '${text}'`);
  }
  return bytes;
}

/** A disk size: a whole number of 512-byte sectors. */
export function parseDiskSize(command: string, text: string, what = 'the size'): number {
  const bytes = parseSize(command, text, what);
  if (bytes % 512 !== 0) throw new UsageError(command, `${what} must be a multiple of 512 bytes (a whole number of sectors); got '${text}' (${bytes} bytes)`);
  return bytes;
}

/** A qcow2 cluster size (a power of two from 512 bytes to 2 MiB) as log2. */
export function parseClusterSize(command: string, text: string): number {
  const bytes = parseSize(command, text, '--cluster-size');
  const bits = Math.log2(bytes);
  if (!Number.isInteger(bits) || bits < 9 || bits > 21) throw new UsageError(command, `--cluster-size must be a power of two from 512 to 2M; got '${text}'`);
  return bits;
}
