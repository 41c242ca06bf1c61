import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { RamDiscard, RamDiscardError } from './ram-discard.js';

const MiB = 1 << 20;

/** Resident anonymous memory of this process, in bytes. */
function rssAnon(): number {
  const kib = /RssAnon:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  assert.ok(kib !== undefined, 'RssAnon in /proc/self/status');
  return Number(kib) * 1024;
}

for (const shared of [false, true]) {
  test(`a discarded range of a ${shared ? 'shared ' : ''}WebAssembly.Memory leaves RSS, reads as zero, neighbours keep their bytes`, () => {
    const discard = RamDiscard.load();
    const memory = new WebAssembly.Memory({ initial: 1024 + 2, maximum: 1024 + 2, shared }); // 64 MiB and two pages
    const bytes = new Uint8Array(memory.buffer);
    bytes.fill(0x5a);
    const before = rssAnon();
    const offset = 65536;
    const given = discard.discard(bytes, offset, 64 * MiB);
    const after = rssAnon();
    assert.equal(given, 64 * MiB);
    assert.ok(before - after > 48 * MiB, `RSS fell by ${((before - after) / MiB).toFixed(1)} MiB, expected about 64`);
    assert.ok(bytes.subarray(offset, offset + 64 * MiB).every((v) => v === 0), 'the range reads as zero');
    assert.ok(bytes.subarray(0, offset).every((v) => v === 0x5a), 'the bytes before keep theirs');
    assert.ok(bytes.subarray(offset + 64 * MiB).every((v) => v === 0x5a), 'the bytes after keep theirs');
    bytes[offset + 12345] = 7; // a discarded page is ordinary memory again
    assert.equal(bytes[offset + 12345], 7);
  });
}

test('partial pages at the ends are zeroed in place; a plain ArrayBuffer works too', () => {
  const discard = RamDiscard.load();
  const bytes = new Uint8Array(8 * discard.pageSize).fill(0xee);
  const offset = 100;
  const length = 4 * discard.pageSize + 50;
  const given = discard.discard(bytes, offset, length);
  assert.equal(given % discard.pageSize, 0);
  assert.ok(given >= 3 * discard.pageSize && given <= length, `gave back ${given} bytes`);
  assert.ok(bytes.subarray(offset, offset + length).every((v) => v === 0));
  assert.ok(bytes.subarray(0, offset).every((v) => v === 0xee));
  assert.ok(bytes.subarray(offset + length).every((v) => v === 0xee));
  assert.equal(discard.discard(bytes.subarray(10, 20), 2, 3), 0, 'less than a page: zeroed, nothing given back');
  assert.deepEqual([...bytes.subarray(10, 20)], [0xee, 0xee, 0, 0, 0, 0xee, 0xee, 0xee, 0xee, 0xee]);
});

test('ranges outside the array, negative or fractional, are refused with nothing changed', () => {
  const discard = RamDiscard.load();
  const bytes = new Uint8Array(4 * discard.pageSize).fill(1);
  for (const [offset, length] of [[-1, 10], [0, bytes.length + 1], [bytes.length, 1], [1.5, 4], [0, Number.NaN], [2 ** 53, 1]] as const) {
    assert.throws(() => discard.discard(bytes, offset, length), (e: unknown) => e instanceof RamDiscardError && e.kind === 'ram-discard', `${offset}+${length}`);
  }
  assert.ok(bytes.every((v) => v === 1));
  assert.equal(discard.discard(bytes, bytes.length, 0), 0, 'an empty range at the end is fine');
});

test('the resident pages that hold only zeros go back to the host; every byte reads as before', () => {
  const discard = RamDiscard.load();
  const page = discard.pageSize;
  const memory = new WebAssembly.Memory({ initial: 512, maximum: 512 }); // 32 MiB, page-aligned
  const bytes = new Uint8Array(memory.buffer);
  const pages = bytes.length / page;
  // Every page touched (resident); every third keeps one non-zero byte, at its first, last or a middle byte.
  const kept = new Map<number, number>();
  for (let p = 0; p < pages; p++) {
    bytes.fill(0x77, p * page, (p + 1) * page);
    bytes.fill(0, p * page, (p + 1) * page);
    if (p % 3 === 0) {
      const at = p * page + [0, page - 1, 1234][(p / 3) % 3]!;
      bytes[at] = 0x42;
      kept.set(at, 0x42);
    }
  }
  const zeroPages = pages - Math.ceil(pages / 3);
  const before = rssAnon();
  const given = discard.discardZeroPages(bytes, 0, bytes.length);
  const after = rssAnon();
  assert.equal(given, zeroPages * page);
  assert.ok(before - after > given * 0.75, `RSS fell by ${((before - after) / MiB).toFixed(1)} MiB of ${(given / MiB).toFixed(1)}`);
  assert.equal(discard.discardZeroPages(bytes, 0, bytes.length), 0, 'pages already given back are not held: nothing more, and nothing read');
  for (const [at, value] of kept) {
    assert.equal(bytes[at], value, `byte ${at}`);
    bytes[at] = 0;
  }
  assert.ok(new BigUint64Array(memory.buffer).every((word) => word === 0n), 'every other byte reads as zero');
  // Only whole pages inside the range: a zero page cut by either end stays.
  bytes[5 * page + 9] = 1;
  bytes.fill(0, 6 * page, 9 * page); // pages 6, 7, 8: resident and zero
  bytes[6 * page] = 1;
  bytes[6 * page] = 0;
  bytes[8 * page + 1] = 1;
  bytes[8 * page + 1] = 0;
  assert.equal(discard.discardZeroPages(bytes, 6 * page + 1, 2 * page), page, 'only page 7 lies wholly inside');
  assert.throws(() => discard.discardZeroPages(bytes, 0, bytes.length + 1), (e: unknown) => e instanceof RamDiscardError);
});

/** Pages of this process the kernel's same-page merging shares with identical ones. */
function mergingPages(): number {
  const line = /ksm_merging_pages\s+(\d+)/.exec(readFileSync('/proc/self/ksm_stat', 'utf8'));
  return Number(line?.[1] ?? 0);
}

test('identical pages offered for merging are shared by KSM, and each still reads and writes as its own', async (t) => {
  const discard = RamDiscard.load();
  const memory = new WebAssembly.Memory({ initial: 256, maximum: 256 }); // 16 MiB
  const bytes = new Uint8Array(memory.buffer);
  const page = discard.pageSize;
  const pages = bytes.length / page;
  for (let p = 0; p < pages; p++) for (let i = 0; i < page; i++) bytes[p * page + i] = (i * 7 + 1) & 255;
  const ksm = '/sys/kernel/mm/ksm';
  if (!existsSync(`${ksm}/run`)) {
    assert.equal(discard.markMergeable(bytes, 0, bytes.length), false, 'a kernel without KSM says so');
    return;
  }
  if (process.getuid?.() !== 0) {
    t.skip('turning KSM on for the test needs root');
    return;
  }
  // Scans fast while the test runs; the host's own settings come back after.
  const settings = ['run', 'pages_to_scan', 'sleep_millisecs'].map((name) => [name, readFileSync(`${ksm}/${name}`, 'utf8').trim()] as const);
  try {
    writeFileSync(`${ksm}/pages_to_scan`, '10000');
    writeFileSync(`${ksm}/sleep_millisecs`, '10');
    writeFileSync(`${ksm}/run`, '1');
    const before = mergingPages();
    assert.equal(discard.markMergeable(bytes, 0, bytes.length), true);
    const deadline = Date.now() + 30_000;
    while (mergingPages() - before < pages / 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(mergingPages() - before >= pages / 2, `${mergingPages() - before} of ${pages} identical pages merged`);
  } finally {
    for (const [name, value] of settings.reverse()) writeFileSync(`${ksm}/${name}`, value);
  }
  bytes[5 * page + 3] = 0xab; // copy-on-write: the other pages keep the pattern
  assert.equal(bytes[5 * page + 3], 0xab);
  assert.equal(bytes[4 * page + 3], (3 * 7 + 1) & 255);
  assert.equal(bytes[6 * page + 3], (3 * 7 + 1) & 255);
  assert.throws(() => discard.markMergeable(bytes, 1, bytes.length), RamDiscardError);
});
