// Lists the applets a busybox binary provides without running it (it is a riscv64 program):
// busybox keeps their names as one sorted, NUL-separated string table that starts "[\0[[\0".

import { ImageError } from './image-error.js';

const TABLE_START = Buffer.from('[\0[[\0', 'latin1');
const APPLET_NAME = /^[a-z0-9_.[-]+$/;

export function busyboxApplets(binary: Uint8Array, what = 'busybox'): string[] {
  const buf = Buffer.from(binary.buffer, binary.byteOffset, binary.byteLength);
  const start = buf.indexOf(TABLE_START);
  const end = start < 0 ? -1 : buf.indexOf(Buffer.from([0, 0]), start);
  const names = start < 0 || end < 0 ? [] : buf.toString('latin1', start, end).split('\0');
  // The table is sorted and made of short lower-case names; anything else means we found something else.
  const sorted = names.every((name, i) => APPLET_NAME.test(name) && (i === 0 || names[i - 1]! < name));
  if (names.length < 10 || !sorted) {
    throw new ImageError('bad-package', `cannot find the applet table in ${what}; is it a busybox binary?`, { path: what });
  }
  return names;
}
