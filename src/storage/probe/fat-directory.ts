// FAT directory entries (Microsoft FAT specification, sections 6 and 7): 32-byte short entries,
// with long names carried by the entries before them and tied to them by a checksum.

export interface FatDirEntry {
  /** The long name when one is attached and intact, else the 8.3 name ("EXTLINUX.CON"). */
  longName: string | undefined;
  shortName: string;
  directory: boolean;
  firstCluster: number;
}

const ATTR_DIRECTORY = 0x10;
const ATTR_VOLUME_ID = 0x08;
const ATTR_LONG_NAME = 0x0f;
const LAST_LONG_ENTRY = 0x40;
/** Character offsets of the 13 UTF-16 units in a long-name entry (section 7). */
const LFN_OFFSETS = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];

/** Section 7.2: the checksum of an 11-byte short name that long-name entries carry. */
export function shortNameChecksum(name: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) + (sum >> 1) + name[i]!) & 0xff;
  return sum;
}

function shortNameText(raw: Uint8Array): string {
  const bytes = raw.slice(0, 11);
  if (bytes[0] === 0x05) bytes[0] = 0xe5; // a real 0xE5 first byte is stored as 0x05
  const text = (from: number, to: number) => Buffer.from(bytes.subarray(from, to)).toString('latin1').trimEnd();
  const ext = text(8, 11);
  return ext ? `${text(0, 8)}.${ext}` : text(0, 8);
}

/**
 * The entries of a directory's bytes, up to its end marker. Returns `ended` when a 0x00 entry
 * marks the end, so a reader following a cluster chain can stop there.
 */
export function fatDirEntries(bytes: Uint8Array): { entries: FatDirEntry[]; ended: boolean } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries: FatDirEntry[] = [];
  let long: { parts: string[]; checksum: number; next: number } | undefined;
  for (let at = 0; at + 32 <= bytes.length; at += 32) {
    const first = bytes[at]!;
    if (first === 0x00) return { entries, ended: true };
    const attr = bytes[at + 11]!;
    if (first === 0xe5) {
      long = undefined;
      continue;
    }
    if ((attr & 0x3f) === ATTR_LONG_NAME) {
      const order = first & 0x3f;
      let part = '';
      for (const o of LFN_OFFSETS) part += String.fromCharCode(view.getUint16(at + o, true));
      if (first & LAST_LONG_ENTRY) long = { parts: [part], checksum: bytes[at + 13]!, next: order - 1 };
      else if (long && order === long.next && bytes[at + 13] === long.checksum) {
        long.parts.unshift(part);
        long.next--;
      } else long = undefined;
      continue;
    }
    const raw = bytes.subarray(at, at + 11);
    const intact = long !== undefined && long.next === 0 && long.checksum === shortNameChecksum(raw);
    const longName = intact ? long!.parts.join('').replace(/\0[\s\S]*$/, '') : undefined;
    long = undefined;
    if (attr & ATTR_VOLUME_ID) continue;
    entries.push({
      longName,
      shortName: shortNameText(raw),
      directory: (attr & ATTR_DIRECTORY) !== 0,
      firstCluster: view.getUint16(at + 20, true) * 0x10000 + view.getUint16(at + 26, true),
    });
  }
  return { entries, ended: false };
}
