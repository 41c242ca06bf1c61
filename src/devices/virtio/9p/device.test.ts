import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtioMmioRegister as R } from '../mmio-transport.js';
import { NinePReplyError, NinePTestClient } from '../testing/nine-p-client.js';
import { VirtioNinePDevice, type VirtioNinePOptions } from './device.js';
import { Errno } from './errno.js';
import { NinePType as T, QidType } from './messages.js';
import { SetattrValid as V } from './nine-p-server.js';

const base = mkdtempSync(join(tmpdir(), 'vireo-9p-'));
after(() => rmSync(base, { recursive: true, force: true }));
let dirs = 0;

const O_RDONLY = 0;
const O_WRONLY = 1;
const O_RDWR = 2;
const O_TRUNC = 0o1000;
const AT_REMOVEDIR = 0x200;

/** A fresh shared directory with `files` (name -> contents; a trailing '/' makes a directory). */
function share(files: Record<string, string> = {}): string {
  const root = join(base, `s${dirs++}`);
  mkdirSync(root);
  for (const [name, contents] of Object.entries(files)) {
    if (name.endsWith('/')) mkdirSync(join(root, name), { recursive: true });
    else writeFileSync(join(root, name), contents);
  }
  return root;
}

const devices: VirtioNinePDevice[] = [];
afterEach(async () => {
  await Promise.all(devices.map((d) => d.close()));
  devices.length = 0;
});

function client(root: string, options: Partial<VirtioNinePOptions> = {}) {
  const device = new VirtioNinePDevice({ root, tag: 'host0', ...options });
  devices.push(device);
  return { device, c: new NinePTestClient(device) };
}

async function rejectsWith(promise: Promise<unknown>, errno: number): Promise<void> {
  await assert.rejects(promise, (e: unknown) => e instanceof NinePReplyError && e.errno === errno);
}

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

test('device ID 9, MOUNT_TAG offered, config space holds the tag', () => {
  const { c } = client(share(), { tag: 'shared-tag' });
  const d = c.driver;
  assert.equal(d.r(R.DEVICE_ID), 9);
  assert.equal(d.deviceFeatures() & 1n, 1n);
  const t = d.transport;
  assert.equal(t.read(R.CONFIG, 2), 10);
  const tag = Array.from({ length: 10 }, (_, i) => t.read(R.CONFIG + 2 + i, 1));
  assert.equal(String.fromCharCode(...tag), 'shared-tag');
  assert.equal(t.read(R.CONFIG + 12, 1), 0);
});

test('constructor refuses a missing root, an empty tag and a file as root', () => {
  const root = share({ f: 'x' });
  assert.throws(() => new VirtioNinePDevice({ root: join(root, 'nope'), tag: 't' }), (e: Error & { kind?: string }) => e.kind === 'virtio-9p');
  assert.throws(() => new VirtioNinePDevice({ root, tag: '' }), /mount tag/);
  assert.throws(() => new VirtioNinePDevice({ root: join(root, 'f'), tag: 't' }), /not a directory/);
});

test('Tversion caps msize at 512 KiB, keeps a smaller one, and answers "unknown" to other dialects', async () => {
  const { c } = client(share());
  assert.deepEqual(await c.version(8 << 20), { msize: 512 * 1024, version: '9P2000.L' });
  assert.deepEqual(await c.version(8192), { msize: 8192, version: '9P2000.L' });
  assert.equal((await c.version(8192, '9P2000.u')).version, 'unknown');
  await rejectsWith(c.version(100), Errno.EINVAL);
});

test('attach, walk, open and read an existing file; getattr describes it', async () => {
  const root = share({ 'dir/': '', 'dir/hello.txt': 'hello, guest\n' });
  const { c } = client(root);
  const rootQid = await c.mount(1);
  assert.equal(rootQid.type, QidType.DIR);
  const qids = await c.walk(1, 2, ['dir', 'hello.txt']);
  assert.equal(qids.length, 2);
  assert.equal(qids[0]!.type, QidType.DIR);
  assert.equal(qids[1]!.type, QidType.FILE);
  assert.equal(qids[1]!.path, BigInt(statSync(join(root, 'dir/hello.txt')).ino));
  const attr = await c.getattr(2);
  assert.equal(attr.size, 13n);
  assert.equal(attr.mode & 0o170000, 0o100000);
  assert.equal(attr.valid, 0x7ffn);
  await c.lopen(2, O_RDONLY);
  assert.equal(str(await c.read(2, 0, 100)), 'hello, guest\n');
  assert.equal(str(await c.read(2, 7, 5)), 'guest');
  assert.equal((await c.read(2, 100, 10)).length, 0);
  await c.clunk(2);
  await rejectsWith(c.read(2, 0, 10), Errno.EBADF);
});

test('a partial walk returns the qids it found and makes no fid; a failing first name is an error', async () => {
  const { c } = client(share({ 'a/': '' }));
  await c.mount(1);
  assert.equal((await c.walk(1, 2, ['a', 'missing', 'x'])).length, 1);
  await rejectsWith(c.getattr(2), Errno.EBADF);
  await rejectsWith(c.walk(1, 2, ['missing']), Errno.ENOENT);
  // A walk of no names clones the fid.
  assert.equal((await c.walk(1, 3, [])).length, 0);
  assert.equal((await c.getattr(3)).qid.type, QidType.DIR);
  await rejectsWith(c.walk(1, 3, ['a']), Errno.EBADF); // newfid in use
});

test('create, write, read back; the host sees the bytes', async () => {
  const root = share();
  const { c } = client(root);
  await c.mount(1);
  await c.walk(1, 2, []);
  const qid = await c.lcreate(2, 'new.bin', O_RDWR, 0o640);
  assert.equal(qid.type, QidType.FILE);
  const data = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 13) & 0xff);
  assert.equal(await c.write(2, 0, data), data.length);
  assert.equal(await c.write(2, 100_000, text('tail')), 4);
  const back = await c.read(2, 0, 100_004);
  assert.deepEqual(back, Uint8Array.from([...data, ...text('tail')]));
  await c.fsync(2);
  await c.fsync(2, 1);
  await c.clunk(2);
  assert.equal(statSync(join(root, 'new.bin')).mode & 0o777, 0o640);
  assert.deepEqual(new Uint8Array(readFileSync(join(root, 'new.bin'))).subarray(0, 100_000), data);
  // Creating an existing name fails; the fid stays a directory fid.
  await c.walk(1, 3, []);
  await rejectsWith(c.lcreate(3, 'new.bin', O_RDWR), Errno.EEXIST);
});

test('lopen with O_TRUNC truncates; writing a read-only open fails', async () => {
  const root = share({ f: 'old contents' });
  const { c } = client(root);
  await c.mount(1);
  await c.walk(1, 2, ['f']);
  await c.lopen(2, O_RDONLY);
  await rejectsWith(c.write(2, 0, text('x')), Errno.EBADF);
  await c.walk(1, 3, ['f']);
  await c.lopen(3, O_WRONLY | O_TRUNC);
  assert.equal(readFileSync(join(root, 'f'), 'utf8'), '');
  await c.write(3, 0, text('new'));
  assert.equal(readFileSync(join(root, 'f'), 'utf8'), 'new');
  await rejectsWith(c.lopen(3, O_RDONLY), Errno.EINVAL); // already open
});

test('readdir lists every entry once, with ".." and "."; offsets continue and restart stably', async () => {
  const names = Array.from({ length: 60 }, (_, i) => `file-${String(i).padStart(3, '0')}-${'x'.repeat(i)}`);
  const root = share(Object.fromEntries([...names.map((n) => [n, n] as const), ['sub/', '']]));
  const { c } = client(root);
  await c.mount(1);
  await c.walk(1, 2, []);
  await c.lopen(2, O_RDONLY);
  const all = await c.readdirAll(2, 300);
  const listed = all.map((e) => e.name);
  assert.deepEqual([...listed].sort(), ['.', '..', ...names, 'sub'].sort());
  assert.equal(new Set(all.map((e) => e.offset)).size, all.length);
  const sub = all.find((e) => e.name === 'sub')!;
  assert.equal(sub.type, 4); // DT_DIR
  assert.equal(sub.qid.type, QidType.DIR);
  assert.equal(all.find((e) => e.name === names[0])!.type, 8); // DT_REG
  // Re-reading from an earlier offset gives the same entries in the same order.
  const middle = all[20]!;
  const again = await c.readdir(2, middle.offset, 8192);
  assert.deepEqual(again.map((e) => e.name), listed.slice(21, 21 + again.length));
  assert.ok(again.length > 5);
  // Past the end: nothing.
  assert.equal((await c.readdir(2, 10_000, 8192)).length, 0);
  // Readdirs sent at once on one fid run one after the other: both see whole, consistent batches.
  const [first, second] = await Promise.all([c.readdir(2, 0, 300), c.readdir(2, 0, 300)]);
  assert.deepEqual(first.map((e) => e.name), listed.slice(0, first.length));
  assert.deepEqual(second.map((e) => e.name), listed.slice(0, second.length));
  // A file is not a directory.
  await c.walk(1, 3, [names[0]!]);
  await c.lopen(3, O_RDONLY);
  await rejectsWith(c.readdir(3, 0, 100), Errno.ENOTDIR);
});

test('mkdir, renameat, rename, unlinkat and remove change the host tree; fids follow renames', async () => {
  const root = share({ f: 'data' });
  const { c } = client(root);
  await c.mount(1);
  assert.equal((await c.mkdir(1, 'd', 0o750)).type, QidType.DIR);
  assert.ok(statSync(join(root, 'd')).isDirectory());
  await c.walk(1, 2, ['f']);
  await c.walk(1, 3, ['d']);
  await c.renameat(1, 'f', 3, 'g');
  assert.equal(readFileSync(join(root, 'd/g'), 'utf8'), 'data');
  // fid 2 named f: it now names d/g.
  assert.equal((await c.getattr(2)).size, 4n);
  await c.rename(2, 1, 'h');
  assert.equal(readFileSync(join(root, 'h'), 'utf8'), 'data');
  assert.equal((await c.getattr(2)).size, 4n);
  await rejectsWith(c.unlinkat(1, 'd'), Errno.EISDIR);
  await c.mkdir(3, 'inner');
  await rejectsWith(c.unlinkat(1, 'd', AT_REMOVEDIR), Errno.ENOTEMPTY);
  await c.unlinkat(3, 'inner', AT_REMOVEDIR);
  await c.unlinkat(1, 'd', AT_REMOVEDIR);
  assert.equal(existsSync(join(root, 'd')), false);
  await c.remove(2);
  assert.equal(existsSync(join(root, 'h')), false);
  await rejectsWith(c.getattr(2), Errno.EBADF); // remove clunked it
  await rejectsWith(c.remove(1), Errno.EBUSY); // the root cannot go
  await rejectsWith(c.getattr(1), Errno.EBADF); // but the fid is clunked anyway
});

test('symlink and readlink store and return the link text; opening a symlink fails', async () => {
  const root = share({ target: 't' });
  const { c } = client(root);
  await c.mount(1);
  assert.equal((await c.symlink(1, 'rel', 'target')).type, QidType.SYMLINK);
  await c.symlink(1, 'abs', '/etc/passwd');
  assert.equal(readlinkSync(join(root, 'abs')), '/etc/passwd');
  const [qid] = await c.walk(1, 2, ['rel']);
  assert.equal(qid!.type, QidType.SYMLINK);
  assert.equal(await c.readlink(2), 'target');
  await c.walk(1, 3, ['abs']);
  assert.equal(await c.readlink(3), '/etc/passwd');
  await rejectsWith(c.lopen(3, O_RDONLY), Errno.ELOOP);
  await c.walk(1, 4, ['target']);
  await rejectsWith(c.readlink(4), Errno.EINVAL);
});

test('link makes a hard link; mknod makes regular files and refuses device nodes and FIFOs', async () => {
  const root = share({ f: 'x' });
  const { c } = client(root);
  await c.mount(1);
  await c.walk(1, 2, ['f']);
  await c.link(1, 2, 'f2');
  assert.equal(statSync(join(root, 'f2')).ino, statSync(join(root, 'f')).ino);
  assert.equal((await c.getattr(2)).nlink, 2n);
  assert.equal((await c.mknod(1, 'plain', 0o100644)).type, QidType.FILE);
  assert.ok(statSync(join(root, 'plain')).isFile());
  await rejectsWith(c.mknod(1, 'null', 0o020666, 1, 3), Errno.EPERM);
  await rejectsWith(c.mknod(1, 'disk', 0o060660, 8, 0), Errno.EPERM);
  await rejectsWith(c.mknod(1, 'fifo', 0o010644), Errno.EPERM);
  assert.equal(existsSync(join(root, 'null')), false);
});

test('setattr changes mode, truncates and sets times', async () => {
  const root = share({ f: '0123456789' });
  const { c } = client(root);
  await c.mount(1);
  await c.walk(1, 2, ['f']);
  await c.setattr(2, { valid: V.MODE, mode: 0o600 });
  assert.equal(statSync(join(root, 'f')).mode & 0o777, 0o600);
  await c.setattr(2, { valid: V.SIZE, size: 4 });
  assert.equal(readFileSync(join(root, 'f'), 'utf8'), '0123');
  await c.setattr(2, { valid: V.MTIME | V.MTIME_SET, mtime: 1_000_000 });
  assert.equal(statSync(join(root, 'f')).mtimeMs, 1_000_000_000);
  assert.equal((await c.getattr(2)).mtimeSec, 1_000_000n);
  await c.setattr(2, { valid: V.ATIME | V.ATIME_SET, atime: 2_000_000 });
  assert.equal(statSync(join(root, 'f')).atimeMs, 2_000_000_000);
  assert.equal(statSync(join(root, 'f')).mtimeMs, 1_000_000_000); // unchanged
  await c.walk(1, 3, []);
  await rejectsWith(c.setattr(3, { valid: V.SIZE, size: 0 }), Errno.EISDIR);
});

test('statfs, lock, getlock; xattrs, auth and unknown messages are EOPNOTSUPP', async () => {
  const { c } = client(share({ f: '' }));
  await c.mount(1);
  const fs = await c.statfs(1);
  assert.ok(fs.bsize > 0 && fs.blocks > 0n);
  assert.equal(fs.namelen, 255);
  await c.walk(1, 2, ['f']);
  await c.lopen(2, O_RDWR);
  const lock = await c.rpc(T.TLOCK, (w) => w.u32(2).u8(1).u32(0).u64(0).u64(0).u32(42).str('guest'));
  assert.equal(lock.u8(), 0); // granted
  const got = await c.rpc(T.TGETLOCK, (w) => w.u32(2).u8(1).u64(5).u64(10).u32(42).str('guest'));
  assert.equal(got.u8(), 2); // F_UNLCK: nothing in the way
  assert.equal(got.u64(), 5n);
  await rejectsWith(c.rpc(T.TXATTRWALK, (w) => w.u32(1).u32(9).str('user.x')), Errno.EOPNOTSUPP);
  await rejectsWith(c.rpc(T.TXATTRCREATE, (w) => w.u32(2).str('user.x').u64(1).u32(0)), Errno.EOPNOTSUPP);
  await rejectsWith(c.rpc(T.TAUTH, (w) => w.u32(5).str('u').str('').u32(0)), Errno.EOPNOTSUPP);
  await rejectsWith(c.rpc(112 /* Topen, 9P2000 */, (w) => w.u32(2).u8(0)), Errno.EOPNOTSUPP);
  await rejectsWith(c.rpc(250), Errno.EOPNOTSUPP);
  await rejectsWith(c.statfs(77), Errno.EBADF);
});

test('a read-only share refuses every change with EROFS and still reads', async () => {
  const root = share({ f: 'keep', 'd/': '' });
  const { c } = client(root, { readOnly: true });
  await c.mount(1);
  await c.walk(1, 2, ['f']);
  await c.walk(1, 3, ['d']);
  const refusals: Array<[string, Promise<unknown>]> = [
    ['lopen for writing', c.lopen(2, O_WRONLY)],
    ['lopen with O_TRUNC', c.lopen(2, O_RDONLY | O_TRUNC)],
    ['lcreate', c.lcreate(3, 'x', O_RDWR)],
    ['mkdir', c.mkdir(1, 'x')],
    ['symlink', c.symlink(1, 'x', 'f')],
    ['mknod', c.mknod(1, 'x', 0o100644)],
    ['link', c.link(1, 2, 'x')],
    ['renameat', c.renameat(1, 'f', 1, 'x')],
    ['rename', c.rename(2, 1, 'x')],
    ['unlinkat', c.unlinkat(1, 'f')],
    ['setattr mode', c.setattr(2, { valid: V.MODE, mode: 0o777 })],
    ['setattr size', c.setattr(2, { valid: V.SIZE, size: 0 })],
    ['setattr times', c.setattr(2, { valid: V.MTIME | V.MTIME_SET, mtime: 5 })],
  ];
  for (const [what, promise] of refusals) {
    await assert.rejects(promise, (e: unknown) => e instanceof NinePReplyError && e.errno === Errno.EROFS, what);
  }
  await c.walk(1, 4, ['f']);
  await rejectsWith(c.remove(4), Errno.EROFS);
  assert.equal(readFileSync(join(root, 'f'), 'utf8'), 'keep');
  assert.deepEqual(readdirSync(root).sort(), ['d', 'f']);
  await c.lopen(2, O_RDONLY);
  assert.equal(str(await c.read(2, 0, 10)), 'keep');
});

test('requests run asynchronously: several in flight, answered as they finish; drain() waits for all', async () => {
  const root = share(Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`f${i}`, `contents of ${i}`])));
  const { c, device } = client(root);
  let wakes = 0;
  device.onCompletion(() => wakes++);
  await c.mount(1);
  assert.equal(wakes, 2);
  for (let i = 0; i < 8; i++) {
    await c.walk(1, 10 + i, [`f${i}`]);
    await c.lopen(10 + i, O_RDONLY);
  }
  const heads = Array.from({ length: 8 }, (_, i) => c.post(c.frame(T.TREAD, (w) => w.u32(10 + i).u64(0).u32(100)), 4096, false));
  c.notify();
  assert.equal(device.inFlight, 8);
  const before = c.driver.usedIdx(0);
  await device.drain();
  assert.equal(device.inFlight, 0);
  assert.equal((c.driver.usedIdx(0) - before) & 0xffff, 8);
  for (const head of heads) {
    await c.waitUsed(head);
    c.free(head);
  }
});

test('a reset while requests are in flight drops their replies and writes nothing into guest memory', async () => {
  const root = share({ f: 'x'.repeat(50_000) });
  const { c, device } = client(root);
  await c.mount(1);
  await c.walk(1, 2, ['f']);
  await c.lopen(2, O_RDONLY);
  const usedBefore = c.driver.usedIdx(0);
  for (let i = 0; i < 4; i++) c.post(c.frame(T.TREAD, (w) => w.u32(2).u64(0).u32(50_000)), 60_000, false);
  c.notify();
  // The chains are popped (the transport has written avail_event); the replies are not written yet.
  const ramBefore = c.driver.ram.slice();
  assert.equal(device.inFlight, 4);
  c.driver.w(R.STATUS, 0); // device reset
  await device.drain();
  assert.equal(device.stats.dropped, 4);
  assert.equal(c.driver.usedIdx(0), usedBefore);
  assert.ok(Buffer.from(c.driver.ram).equals(Buffer.from(ramBefore)), 'guest RAM changed after the reset');
  // After re-initialisation the session is new: the old fids are gone.
  c.driver.init();
  const fresh = new NinePTestClient(device);
  await fresh.version();
  await rejectsWith(fresh.getattr(2), Errno.EBADF);
});

test('a walk in flight across a reset adds no fid to the next session', async () => {
  const { c, device } = client(share({ 'a/': '', 'a/b/': '' }));
  await c.mount(1);
  c.post(c.frame(T.TWALK, (w) => w.u32(1).u32(50).u16(2).str('a').str('b')), 4096);
  assert.equal(device.inFlight, 1);
  c.driver.w(R.STATUS, 0);
  c.driver.init();
  const fresh = new NinePTestClient(device);
  await fresh.mount(1);
  await device.drain();
  await rejectsWith(fresh.getattr(50), Errno.EBADF);
  await fresh.walk(1, 50, ['a']); // the number is free
});

test('Tflush answers Rflush after the flushed request', async () => {
  const { c } = client(share({ f: 'abc' }));
  await c.mount(1);
  await c.walk(1, 2, ['f']);
  await c.lopen(2, O_RDONLY);
  const read = c.post(c.frame(T.TREAD, (w) => w.u32(2).u64(0).u32(3), 77), 4096, false);
  const flush = c.post(c.frame(T.TFLUSH, (w) => w.u16(77), 78), 4096, false);
  c.notify();
  const order: number[] = [];
  await Promise.all([c.waitUsed(read).then(() => order.push(read)), c.waitUsed(flush).then(() => order.push(flush))]);
  assert.deepEqual(order, [read, flush]);
  c.free(read);
  c.free(flush);
  assert.equal((await c.rpc(T.TFLUSH, (w) => w.u16(999))).remaining, 0); // nothing to wait for
});

test('the fid table is bounded: EMFILE past maxFids, room again after clunk', async () => {
  const { c } = client(share(), { maxFids: 4 });
  await c.mount(1);
  await c.walk(1, 2, []);
  await c.walk(1, 3, []);
  await c.walk(1, 4, []);
  await rejectsWith(c.walk(1, 5, []), Errno.EMFILE);
  await c.clunk(4);
  await c.walk(1, 5, []);
  // Tversion ends the session: every fid is clunked.
  await c.version();
  await rejectsWith(c.getattr(1), Errno.EBADF);
});

test('save needs no request in flight; a restored session reopens its open fids by path', async () => {
  const root = share({ f: 'saved file', 'd/': '', 'd/x': '' });
  const { c, device } = client(root);
  await c.mount(1);
  await c.walk(1, 2, ['f']);
  await c.lopen(2, O_RDONLY);
  await c.walk(1, 3, ['d']);
  await c.lopen(3, O_RDONLY);
  c.post(c.frame(T.TGETATTR, (w) => w.u32(2).u64(0x7ff)), 4096);
  assert.throws(() => device.save(), /drain/);
  await device.drain();
  const state = device.save();
  assert.equal(state.fids.length, 3);
  const restored = new VirtioNinePDevice({ root, tag: 'host0' });
  devices.push(restored);
  const c2 = new NinePTestClient(restored);
  restored.restore(state);
  assert.equal(str(await c2.read(2, 0, 100)), 'saved file');
  assert.deepEqual((await c2.readdirAll(3)).map((e) => e.name).sort(), ['.', '..', 'x']);
  assert.throws(() => new VirtioNinePDevice({ root, tag: 'other' }).restore(state), /tag/);
  assert.throws(() => new VirtioNinePDevice({ root, tag: 'host0', readOnly: true }).restore(state), /read-only/);
  assert.throws(() => restored.restore({ ...state, fids: [{ fid: 9, path: ['..'], qidType: 0x80, openFlags: null }] }), /restore/);
});

test('two devices share one directory and see each other\'s changes', async () => {
  const root = share();
  const a = client(root).c;
  const b = client(root).c;
  await a.mount(1);
  await b.mount(1);
  await a.walk(1, 2, []);
  await a.lcreate(2, 'from-a', O_RDWR);
  await a.write(2, 0, text('hello b'));
  await b.walk(1, 2, ['from-a']);
  await b.lopen(2, O_RDONLY);
  assert.equal(str(await b.read(2, 0, 100)), 'hello b');
  await b.mkdir(1, 'from-b');
  assert.equal((await a.walk(1, 3, ['from-b']))[0]!.type, QidType.DIR);
  assert.equal(lstatSync(join(root, 'from-b')).isDirectory(), true);
});
