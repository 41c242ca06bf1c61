import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { readCpioNewc } from './cpio-newc.js';
import { buildInitrd } from './initrd-builder.js';
import type { InitrdInput } from './initrd-builder.js';

const input: InitrdInput = {
  busybox: Buffer.from('\x7fELF busybox'),
  kernelVersion: '6.12.0-test',
  modules: {
    modules: [
      { name: 'jbd2', path: 'kernel/fs/jbd2/jbd2.ko', data: Buffer.from('jbd2 module') },
      { name: 'ext4', path: 'kernel/fs/ext4/ext4.ko', data: Buffer.from('ext4 module') },
    ],
    modulesDep: 'kernel/fs/jbd2/jbd2.ko:\nkernel/fs/ext4/ext4.ko: kernel/fs/jbd2/jbd2.ko\n',
  },
};

test('the initrd is a gzip newc archive with init, busybox, a console and the modules', () => {
  const initrd = buildInitrd(input);
  assert.deepEqual([...initrd.subarray(0, 2)], [0x1f, 0x8b]);
  const entries = readCpioNewc(gunzipSync(initrd));
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const init = byPath.get('init');
  assert.ok(init?.type === 'file' && init.mode === 0o755);
  assert.match(Buffer.from(init.data).toString(), /^load kernel\/fs\/jbd2\/jbd2\.ko\nload kernel\/fs\/ext4\/ext4\.ko$/m);
  const busybox = byPath.get('bin/busybox');
  assert.ok(busybox?.type === 'file' && busybox.mode === 0o755);
  assert.deepEqual(byPath.get('dev/console'), { path: 'dev/console', type: 'char', major: 5, minor: 1, mode: 0o600, uid: 0, gid: 0, mtime: 0 });
  const ext4 = byPath.get('lib/modules/6.12.0-test/kernel/fs/ext4/ext4.ko');
  assert.ok(ext4?.type === 'file' && Buffer.from(ext4.data).toString() === 'ext4 module');
  const dep = byPath.get('lib/modules/6.12.0-test/modules.dep');
  assert.ok(dep?.type === 'file' && Buffer.from(dep.data).toString() === input.modules.modulesDep);
  for (const dir of ['proc', 'sys', 'dev', 'newroot']) assert.equal(byPath.get(dir)?.type, 'dir', dir);
});

test('every directory comes before what it holds, and the same input gives the same bytes', () => {
  const entries = readCpioNewc(gunzipSync(buildInitrd(input)));
  const seen = new Set<string>();
  for (const entry of entries) {
    const parent = entry.path.split('/').slice(0, -1).join('/');
    if (parent) assert.ok(seen.has(parent), `${parent} before ${entry.path}`);
    seen.add(entry.path);
  }
  assert.deepEqual(buildInitrd(input), buildInitrd(input));
});
