import { test } from 'node:test';
import assert from 'node:assert/strict';
import { busyboxApplets } from './busybox-applets.js';
import { ImageError } from './image-error.js';

const NAMES = ['[', '[[', 'ash', 'cat', 'cttyhack', 'init', 'insmod', 'mkfs.vfat', 'mount', 'run-parts', 'sh', 'switch_root', 'zcat'];

function fakeBusybox(names: string[]): Buffer {
  return Buffer.concat([Buffer.from('\x7fELF\x02\x01\x01 code and data [x] ', 'latin1'), Buffer.from(names.join('\0') + '\0\0', 'latin1'), Buffer.from('more data', 'latin1')]);
}

test("the applet table is read from the binary's data", () => {
  assert.deepEqual(busyboxApplets(fakeBusybox(NAMES)), NAMES);
});

test('a binary without a sorted applet table is refused', () => {
  const refused = (e: unknown): boolean => e instanceof ImageError && e.kind === 'bad-package';
  assert.throws(() => busyboxApplets(Buffer.from('\x7fELF no table here')), refused);
  assert.throws(() => busyboxApplets(fakeBusybox(['[', '[[', 'sh', 'cat', 'ls', 'mount', 'a', 'b', 'c', 'd', 'e'])), refused);
  assert.throws(() => busyboxApplets(fakeBusybox(['[', '[['])), refused);
});
