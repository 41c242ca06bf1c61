import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { openSnapshot, writeSnapshot } from './snapshot-file.js';
import { INDEX_ENTRY_BYTES } from './chunk-index.js';
import { PREAMBLE_BYTES, decodePreamble, encodePreamble } from './snapshot-preamble.js';
import { refused, sparseRam } from '../../../tests/snapshot/snapshot-test-support.js';

let dir: string;
let good: Buffer;
let n = 0;
const { ram } = sparseRam(4 * 1024 * 1024, 600); // 3 chunks

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vireo-snapshot-errors-'));
  const path = join(dir, 'good.snap');
  await writeSnapshot(path, { description: { name: 'vm' }, state: { harts: [] }, ram });
  good = readFileSync(path);
});
after(() => rmSync(dir, { recursive: true, force: true }));

function saved(bytes: Uint8Array): string {
  const path = join(dir, `case-${n++}.snap`);
  writeFileSync(path, bytes);
  return path;
}

/** Opens `bytes` as a snapshot and reads all its RAM. */
async function openAndRead(bytes: Uint8Array): Promise<void> {
  const snapshot = await openSnapshot(saved(bytes));
  try {
    await snapshot.readRam(new Uint8Array(Math.min(snapshot.ramSize, ram.length * 2)));
  } finally {
    await snapshot.close();
  }
}

/** The good file's parts, to rebuild crafted files with valid checksums. */
function parts(): { header: Record<string, unknown>; ramSection: Buffer; index: Buffer } {
  const p = decodePreamble(good.subarray(0, PREAMBLE_BYTES), 'good');
  const headerEnd = PREAMBLE_BYTES + p.headerBytes;
  return {
    header: JSON.parse(good.subarray(PREAMBLE_BYTES, headerEnd).toString('utf8')) as Record<string, unknown>,
    ramSection: good.subarray(headerEnd, p.indexOffset),
    index: Buffer.from(good.subarray(p.indexOffset)),
  };
}

/** A file with every checksum right around the given header, RAM section and index. */
function craft(header: Buffer, ramSection: Buffer, index: Buffer): Buffer {
  const indexOffset = PREAMBLE_BYTES + header.length + ramSection.length;
  const preamble = encodePreamble({ headerBytes: header.length, headerCrc: crc32(header), indexOffset, indexBytes: index.length, indexCrc: crc32(index) });
  return Buffer.concat([preamble, header, ramSection, index]);
}

function withHeader(change: (header: Record<string, unknown>, ram: Record<string, unknown>) => void): Buffer {
  const { header, ramSection, index } = parts();
  change(header, header.ram as Record<string, unknown>);
  return craft(Buffer.from(JSON.stringify(header)), ramSection, index);
}

function withIndexEntry(entry: number, field: number, value: number): Buffer {
  const { header, ramSection, index } = parts();
  index.writeUInt32LE(value, entry * INDEX_ENTRY_BYTES + field);
  return craft(Buffer.from(JSON.stringify(header)), ramSection, index);
}

describe('snapshot files refuse', () => {
  it('the crafting helper itself yields a readable file', async () => {
    const { header, ramSection, index } = parts();
    await openAndRead(craft(Buffer.from(JSON.stringify(header)), ramSection, index));
  });

  it('files that are not snapshots', async () => {
    await refused(openSnapshot(saved(Buffer.from('#!/bin/sh\necho hello\n'.repeat(10)))), 'not-a-snapshot', /does not start with "VIREOSNP"/);
    await refused(openSnapshot(saved(Buffer.alloc(0))), 'not-a-snapshot');
    const qcow = Buffer.from(good);
    qcow.write('QFI\xfb', 0, 'latin1');
    await refused(openSnapshot(saved(qcow)), 'not-a-snapshot');
  });

  it('a future format version, naming both versions', async () => {
    const future = Buffer.from(good);
    future.writeUInt32LE(2, 8);
    await refused(openSnapshot(saved(future)), 'unsupported-version', /has format version 2, but this build of Vireo reads only version 1/);
    const flags = Buffer.from(good);
    flags.writeUInt32LE(4, 12);
    flags.writeUInt32LE(crc32(flags.subarray(0, 44)), 44);
    await refused(openSnapshot(saved(flags)), 'unsupported-version', /flags 0x00000004/);
  });

  it('files truncated anywhere', async () => {
    const p = decodePreamble(good.subarray(0, PREAMBLE_BYTES), 'good');
    const cuts = [5, 11, 20, PREAMBLE_BYTES, PREAMBLE_BYTES + 10, p.indexOffset - 1000, p.indexOffset, good.length - 1];
    for (const cut of cuts) {
      await refused(openAndRead(good.subarray(0, cut)), 'truncated', undefined, `cut at byte ${cut}`);
    }
  });

  it('an unfinished file left behind by a writer that stopped', async () => {
    const unfinished = Buffer.from(good);
    encodePreamble({ ...decodePreamble(good.subarray(0, PREAMBLE_BYTES), 'good'), indexOffset: 0, indexBytes: 0, indexCrc: 0 }).copy(unfinished);
    await refused(openSnapshot(saved(unfinished)), 'truncated', /never finished/);
  });

  it('damage to the preamble, header, index or a RAM chunk, saying where', async () => {
    const p = decodePreamble(good.subarray(0, PREAMBLE_BYTES), 'good');
    const headerEnd = PREAMBLE_BYTES + p.headerBytes;
    const flips: [number, RegExp][] = [
      [17, /preamble CRC32 mismatch/],
      [30, /preamble CRC32 mismatch/],
      [PREAMBLE_BYTES + 20, /header CRC32 mismatch/],
      [headerEnd - 2, /header CRC32 mismatch/],
      [headerEnd + 4, /chunk 0 at byte \d+: CRC32 mismatch/],
      [headerEnd + 5000, /chunk 0 at byte \d+: CRC32 mismatch/],
      [p.indexOffset - 10, /chunk 2 at byte \d+: CRC32 mismatch/],
      [p.indexOffset + 3, /chunk index CRC32 mismatch/],
    ];
    for (const [at, message] of flips) {
      const bad = Buffer.from(good);
      bad[at]! ^= 0x40;
      await refused(openAndRead(bad), 'corrupt', message, `byte ${at} flipped`);
    }
    await refused(openAndRead(Buffer.concat([good, Buffer.from('extra')])), 'corrupt', /5 unexpected bytes after its end/);
  });

  it('crafted headers with absurd or missing fields', async () => {
    const cases: [Buffer, RegExp][] = [
      [withHeader((_h, r) => (r.size = 2 ** 50)), /ram\.size is 1125899906842624/],
      [withHeader((_h, r) => (r.size = 4097)), /not a multiple of the page size/],
      [withHeader((_h, r) => (r.size = -4096)), /ram\.size/],
      [withHeader((_h, r) => (r.pageSize = 65536)), /ram\.pageSize/],
      [withHeader((_h, r) => (r.nonZeroPages = 1e9)), /ram\.nonZeroPages/],
      [withHeader((_h, r) => (r.chunkPages = 1e6)), /ram\.chunkPages/],
      [withHeader((_h, r) => (r.chunks = 2)), /ram\.chunks|chunk index of/],
      [withHeader((_h, r) => (r.compression = 'zstd')), /ram\.compression is "zstd"/],
      [withHeader((_h, r) => delete r.size), /ram\.size is missing/],
      [withHeader((h) => delete h.state), /no "state"/],
      [withHeader((h) => delete h.ram), /no "ram"/],
      [craft(Buffer.from('{"description": {'), parts().ramSection, parts().index), /not valid JSON/],
      [craft(Buffer.from([0x22, 0xff, 0x22]), parts().ramSection, parts().index), /not valid JSON/],
      [craft(Buffer.from('[1,2]'), parts().ramSection, parts().index), /not a JSON object/],
    ];
    for (const [bytes, message] of cases) await refused(openAndRead(bytes), 'bad-header', message);
    const small = await openSnapshot(saved(good), { maxRamSize: 1024 * 1024 }).catch((e: unknown) => e);
    assert.match(String(small), /more than the 1048576 allowed here/);
  });

  it('crafted chunk indexes: overlapping or out-of-range pages, gaps, absurd sizes', async () => {
    const { header } = parts();
    const ramPages = (header.ram as { size: number }).size / 4096;
    const cases: [Buffer, RegExp][] = [
      [withIndexEntry(1, 12, 10), /entry 1 starts at page 10, overlapping the chunk before it/],
      [withIndexEntry(2, 16, ramPages), /entry 2 covers pages \d+ to 1024, outside RAM's 1024 pages/],
      [withIndexEntry(0, 8, 0xffffffff), /entry 0 gives the chunk 4294967295 bytes/],
      [withIndexEntry(0, 8, 100), /entry 1 puts the chunk at byte/],
      [withIndexEntry(0, 0, 0), /entry 0 puts the chunk at byte 0/],
      [withIndexEntry(0, 20, 0), /entry 0 says the chunk stores 0 pages/],
      [withIndexEntry(0, 20, 255), /counts \d+ stored pages but the header says 600/],
    ];
    for (const [bytes, message] of cases) await refused(openAndRead(bytes), 'bad-header', message);
    // Index and chunk disagree on the chunk's pages: found when the chunk is read.
    const first = parts().index.readUInt32LE(12);
    await refused(openAndRead(withIndexEntry(0, 12, first + 1)), 'bad-header', /chunk 0 holds 256 pages from \d+/);
  });
});
