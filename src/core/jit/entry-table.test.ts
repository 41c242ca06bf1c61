import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TRANSLATION_AREA_BYTES } from '../guest-memory.js';
import { UNDO_LOG_BYTES } from './block-translator.js';
import { ENTRY_TABLE_BYTES, EntryTable, WAYS } from './entry-table.js';

/** `count` distinct keys (code offsets in RAM) that fall in one bucket. */
function keysSharingABucket(count: number): number[] {
  const keys: number[] = [];
  const bucket = EntryTable.bucket(0x1000_0000);
  for (let key = 0x1000_0000; keys.length < count; key += 2) if (EntryTable.bucket(key) === bucket) keys.push(key);
  return keys;
}

test('the entry table and the lockstep undo log fit in the translation area', () => {
  assert.ok(ENTRY_TABLE_BYTES + UNDO_LOG_BYTES <= TRANSLATION_AREA_BYTES);
});

test('blocks that share a bucket are all found, up to its ways', () => {
  const table = new EntryTable(new ArrayBuffer(ENTRY_TABLE_BYTES), 0);
  const keys = keysSharingABucket(WAYS);
  keys.forEach((key, i) => table.set(key, 100 + i, 4 + i));
  keys.forEach((key, i) => assert.deepEqual(table.lookup(key), { functionIndex: 100 + i, length: 4 + i }));
  table.set(keys[1]!, 200, 9);
  assert.deepEqual(table.lookup(keys[1]!), { functionIndex: 200, length: 9 }, 'setting a key again replaces its entry');
  assert.equal(table.lookup(keys[2]! + 2), null);
});

test('a deleted entry is free again, and a full bucket gives up one entry for a new key', () => {
  const table = new EntryTable(new ArrayBuffer(ENTRY_TABLE_BYTES), 0);
  const keys = keysSharingABucket(WAYS + 1);
  for (const key of keys.slice(0, WAYS)) table.set(key, 1, 1);
  table.delete(keys[0]!);
  assert.equal(table.has(keys[0]!), false);
  table.set(keys[WAYS]!, 2, 2);
  assert.ok(keys.slice(1).every((key) => table.has(key)), 'the freed entry took the new key');
  table.set(keys[0]!, 3, 3);
  assert.ok(table.has(keys[0]!));
  assert.equal(keys.filter((key) => table.has(key)).length, WAYS, 'one older key made room');
  table.clear();
  assert.ok(keys.every((key) => !table.has(key)));
});
