// The guest as an attacker: every way out of the shared directory a 9P client can try (names,
// walks, symlinks, races with the host, links, renames) and malformed or lying messages. Each test
// checks both the answer and that nothing outside the share was read, made or changed.

import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NinePReplyError, NinePTestClient } from '../testing/nine-p-client.js';
import { VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE } from '../virtqueue.js';
import { VirtioNinePDevice } from './device.js';
import { Errno } from './errno.js';
import { NinePType as T, QidType } from './messages.js';
import { SetattrValid as V } from './nine-p-server.js';

const base = mkdtempSync(join(tmpdir(), 'vireo-9p-jail-'));
after(() => rmSync(base, { recursive: true, force: true }));
const devices: VirtioNinePDevice[] = [];
afterEach(async () => {
  await Promise.all(devices.map((d) => d.close()));
  devices.length = 0;
});
let worlds = 0;

const O_RDONLY = 0;
const O_RDWR = 2;
const SECRET = 'outside the share';

/** A share next to an "outside" directory holding a secret; returns both paths and a mounted client (fid 1 = root). */
async function world(readOnly = false) {
  const top = join(base, `w${worlds++}`);
  const outside = join(top, 'outside');
  const root = join(top, 'share');
  mkdirSync(join(outside, 'dir'), { recursive: true });
  writeFileSync(join(outside, 'secret.txt'), SECRET);
  writeFileSync(join(outside, 'f'), SECRET);
  mkdirSync(join(root, 'sub'), { recursive: true });
  writeFileSync(join(root, 'inside.txt'), 'inside');
  const device = new VirtioNinePDevice({ root, tag: 'jail', readOnly });
  devices.push(device);
  const c = new NinePTestClient(device);
  const rootQid = await c.mount(1);
  /** The outside directory's listing and the secret's status, to compare after an attack. */
  const snapshot = () => {
    const s = statSync(join(outside, 'secret.txt'));
    return JSON.stringify({ names: readdirSync(outside).sort(), inner: readdirSync(join(outside, 'dir')), secret: readFileSync(join(outside, 'secret.txt'), 'utf8'), mode: s.mode, uid: s.uid, gid: s.gid, nlink: s.nlink, mtime: s.mtimeMs, f: readFileSync(join(outside, 'f'), 'utf8') });
  };
  return { c, device, root, outside, rootQid, before: snapshot(), snapshot };
}

async function rejectsWith(promise: Promise<unknown>, errno: number, what?: string): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    if (!(e instanceof NinePReplyError)) return false;
    assert.equal(e.errno, errno, what);
    return true;
  }, what);
}

async function refused(promise: Promise<unknown>, what: string): Promise<void> {
  await assert.rejects(promise, (e: unknown) => e instanceof NinePReplyError, what);
}

test('".." walks stop at the root, like a chroot', async () => {
  const w = await world();
  const [up] = await w.c.walk(1, 2, ['..']);
  assert.deepEqual(up, w.rootQid);
  assert.deepEqual(await w.c.walk(1, 3, ['..', '..', '..', 'inside.txt']).then((q) => q.length), 4);
  assert.equal((await w.c.getattr(3)).size, 6n);
  // "outside" is not in the share, whatever the number of "..".
  const partial = await w.c.walk(1, 4, ['sub', '..', '..', '..', 'outside', 'secret.txt']);
  assert.equal(partial.length, 4);
  await rejectsWith(w.c.getattr(4), Errno.EBADF);
  await rejectsWith(w.c.walk(1, 4, ['..', 'outside']).then(() => w.c.getattr(4)), Errno.EBADF);
  assert.equal(w.snapshot(), w.before);
});

test('names with "/", NUL, ".", "..", empty or absolute are refused by every operation', async () => {
  const w = await world();
  await w.c.walk(1, 2, []);
  const bad = ['../outside', '/etc', 'sub/../..', 'a\0b', '', '..', '.', '/', 'x/'];
  for (const name of bad) {
    const shown = JSON.stringify(name);
    if (name !== '..' && name !== '.') await rejectsWith(w.c.walk(1, 9, [name]), Errno.EINVAL, `walk ${shown}`);
    await rejectsWith(w.c.lcreate(2, name, O_RDWR), Errno.EINVAL, `lcreate ${shown}`);
    await rejectsWith(w.c.mkdir(1, name), Errno.EINVAL, `mkdir ${shown}`);
    await rejectsWith(w.c.symlink(1, name, '/etc'), Errno.EINVAL, `symlink ${shown}`);
    await rejectsWith(w.c.mknod(1, name, 0o100644), Errno.EINVAL, `mknod ${shown}`);
    await rejectsWith(w.c.renameat(1, 'inside.txt', 1, name), Errno.EINVAL, `renameat to ${shown}`);
    await rejectsWith(w.c.renameat(1, name, 1, 'x'), Errno.EINVAL, `renameat from ${shown}`);
    await rejectsWith(w.c.unlinkat(1, name), Errno.EINVAL, `unlinkat ${shown}`);
    await w.c.walk(1, 3, ['inside.txt']);
    await rejectsWith(w.c.link(1, 3, name), Errno.EINVAL, `link ${shown}`);
    await rejectsWith(w.c.rename(3, 1, name), Errno.EINVAL, `rename ${shown}`);
    await w.c.clunk(3);
  }
  await rejectsWith(w.c.mkdir(1, 'n'.repeat(256)), Errno.ENAMETOOLONG);
  await rejectsWith(w.c.attach(7, '../outside'), Errno.ENOENT);
  await rejectsWith(w.c.attach(7, '/etc'), Errno.ENOENT);
  assert.deepEqual(readdirSync(w.root).sort(), ['inside.txt', 'sub']);
  assert.equal(w.snapshot(), w.before);
});

test('host symlinks (to /etc, to ../../, to the outside) are never followed', async () => {
  const w = await world();
  symlinkSync('/etc', join(w.root, 'etc'));
  symlinkSync('../../', join(w.root, 'up'));
  symlinkSync(w.outside, join(w.root, 'out'));
  symlinkSync(join(w.outside, 'secret.txt'), join(w.root, 'secret-link'));
  for (const link of ['etc', 'up', 'out']) {
    const qids = await w.c.walk(1, 2, [link, 'secret.txt']);
    assert.equal(qids.length, 1, `walk through ${link}`);
    assert.equal(qids[0]!.type, QidType.SYMLINK);
    await rejectsWith(w.c.getattr(2), Errno.EBADF);
    await w.c.walk(1, 2, [link]);
    await rejectsWith(w.c.lopen(2, O_RDONLY), Errno.ELOOP, `lopen ${link}`);
    await rejectsWith(w.c.lcreate(2, 'planted', O_RDWR), Errno.ENOTDIR, `lcreate in ${link}`);
    await rejectsWith(w.c.mkdir(2, 'planted'), Errno.ENOTDIR, `mkdir in ${link}`);
    await rejectsWith(w.c.symlink(2, 'planted', 'x'), Errno.ENOTDIR, `symlink in ${link}`);
    await rejectsWith(w.c.unlinkat(2, 'secret.txt'), Errno.ENOTDIR, `unlinkat in ${link}`);
    await rejectsWith(w.c.renameat(2, 'secret.txt', 1, 'stolen'), Errno.ENOTDIR, `renameat from ${link}`);
    const attr = await w.c.getattr(2);
    assert.equal(attr.mode & 0o170000, 0o120000, `getattr of ${link} describes the link`);
    await w.c.clunk(2);
  }
  await w.c.walk(1, 3, ['secret-link']);
  assert.equal(await w.c.readlink(3), join(w.outside, 'secret.txt'));
  await rejectsWith(w.c.lopen(3, O_RDONLY), Errno.ELOOP);
  await rejectsWith(w.c.setattr(3, { valid: V.SIZE, size: 0 }), Errno.EINVAL);
  await refused(w.c.setattr(3, { valid: V.MODE, mode: 0o777 }), 'chmod through a symlink');
  await w.c.setattr(3, { valid: V.MTIME | V.MTIME_SET, mtime: 12345 }); // changes the link only
  await w.c.setattr(3, { valid: V.UID | V.GID, uid: 4321, gid: 4321 }); // applied to the link when the host runs as root, else ignored
  assert.equal(lstatSync(join(w.root, 'secret-link')).mtimeMs, 12_345_000);
  // A hard link to the symlink links the symlink itself, not the secret.
  await w.c.link(1, 3, 'hard');
  assert.ok(lstatSync(join(w.root, 'hard')).isSymbolicLink());
  assert.equal(lstatSync(join(w.root, 'hard')).ino, lstatSync(join(w.root, 'secret-link')).ino);
  assert.notEqual(statSync('/etc').mode & 0o777, 0o777);
  assert.equal(w.snapshot(), w.before);
});

test('guest-made symlinks are stored as text and never followed by the host', async () => {
  const w = await world();
  await w.c.symlink(1, 'esc', '../../outside');
  await w.c.symlink(1, 'abs', join(w.outside, 'secret.txt'));
  assert.equal((await w.c.walk(1, 2, ['esc', 'secret.txt'])).length, 1);
  await w.c.walk(1, 2, ['abs']);
  await rejectsWith(w.c.lopen(2, O_RDONLY), Errno.ELOOP);
  assert.equal(await w.c.readlink(2), join(w.outside, 'secret.txt'));
  await w.c.walk(1, 3, ['esc']);
  await rejectsWith(w.c.mkdir(3, 'planted'), Errno.ENOTDIR);
  await rejectsWith(w.c.rpc(T.TSYMLINK, (m) => m.u32(1).str('nul').str('a\0b').u32(0)), Errno.EINVAL);
  assert.equal(w.snapshot(), w.before);
});

test('a directory swapped for a symlink after the walk (another VM, a host race) does not lead outside', async () => {
  const w = await world();
  mkdirSync(join(w.root, 'd'));
  writeFileSync(join(w.root, 'd', 'f'), 'inside f');
  await w.c.walk(1, 2, ['d']);
  await w.c.walk(1, 3, ['d', 'f']);
  // The attack: d becomes a symlink to the outside directory, which also has an "f".
  renameSync(join(w.root, 'd'), join(w.root, 'd.orig'));
  symlinkSync(w.outside, join(w.root, 'd'));
  await rejectsWith(w.c.lopen(3, O_RDONLY), Errno.ENOTDIR, 'lopen of d/f');
  await rejectsWith(w.c.getattr(3), Errno.ENOTDIR, 'getattr of d/f');
  await rejectsWith(w.c.setattr(3, { valid: V.SIZE, size: 0 }), Errno.ENOTDIR, 'truncate of d/f');
  await rejectsWith(w.c.setattr(3, { valid: V.MODE, mode: 0o777 }), Errno.ENOTDIR, 'chmod of d/f');
  await rejectsWith(w.c.readlink(3), Errno.ENOTDIR, 'readlink of d/f');
  await rejectsWith(w.c.link(1, 3, 'hard'), Errno.ENOTDIR, 'link of d/f');
  await rejectsWith(w.c.rename(3, 1, 'stolen'), Errno.ENOTDIR, 'rename of d/f');
  await rejectsWith(w.c.lcreate(2, 'planted', O_RDWR), Errno.ENOTDIR, 'lcreate in d');
  await rejectsWith(w.c.mkdir(2, 'planted'), Errno.ENOTDIR, 'mkdir in d');
  await rejectsWith(w.c.unlinkat(2, 'f'), Errno.ENOTDIR, 'unlinkat in d');
  await rejectsWith(w.c.renameat(2, 'f', 1, 'stolen'), Errno.ENOTDIR, 'renameat from d');
  await rejectsWith(w.c.renameat(1, 'inside.txt', 2, 'planted'), Errno.ENOTDIR, 'renameat into d');
  await rejectsWith(w.c.walk(2, 4, ['f']), Errno.ENOTDIR, 'walk in d');
  await rejectsWith(w.c.lopen(2, O_RDONLY), Errno.ENOTDIR, 'lopen of d');
  // The same for the last name: a file swapped for a symlink to the secret.
  await w.c.walk(1, 5, ['inside.txt']);
  rmSync(join(w.root, 'inside.txt'));
  symlinkSync(join(w.outside, 'secret.txt'), join(w.root, 'inside.txt'));
  await rejectsWith(w.c.lopen(5, O_RDWR), Errno.ELOOP);
  await rejectsWith(w.c.setattr(5, { valid: V.SIZE, size: 0 }), Errno.EINVAL);
  await refused(w.c.setattr(5, { valid: V.MODE, mode: 0o777 }), 'chmod of the swapped file');
  assert.equal(w.snapshot(), w.before);
});

test('set-user-ID and set-group-ID bits never reach the host', async () => {
  const w = await world();
  await w.c.walk(1, 2, []);
  await w.c.lcreate(2, 'suid', O_RDWR, 0o6755);
  assert.equal(statSync(join(w.root, 'suid')).mode & 0o7777, 0o755);
  await w.c.setattr(2, { valid: V.MODE, mode: 0o4777 });
  assert.equal(statSync(join(w.root, 'suid')).mode & 0o7777, 0o777);
  await w.c.mkdir(1, 'sticky', 0o3777);
  assert.equal(statSync(join(w.root, 'sticky')).mode & 0o7777, 0o1777);
  await w.c.mknod(1, 'node', 0o104755);
  assert.equal(statSync(join(w.root, 'node')).mode & 0o7777, 0o755);
});

test('read-only shares stay unchanged whatever the guest sends', async () => {
  const w = await world(true);
  await w.c.walk(1, 2, ['inside.txt']);
  await rejectsWith(w.c.lopen(2, O_RDWR), Errno.EROFS);
  await rejectsWith(w.c.rpc(T.TXATTRCREATE, (m) => m.u32(2).str('user.a').u64(1).u32(0)), Errno.EOPNOTSUPP);
  await rejectsWith(w.c.remove(2), Errno.EROFS);
  assert.equal(readFileSync(join(w.root, 'inside.txt'), 'utf8'), 'inside');
});

function errnoOfReply(c: NinePTestClient, reply: Uint8Array): number | null {
  try {
    c.decode(T.TVERSION, reply);
    return null;
  } catch (e) {
    return e instanceof NinePReplyError ? e.errno : null;
  }
}

test('malformed messages get Rlerror (EPROTO, EMSGSIZE, EINVAL, EILSEQ), never a host exception', async () => {
  const w = await world();
  const c = w.c;
  const expect = async (message: Uint8Array, errno: number, what: string) => {
    const reply = await c.send(message);
    assert.equal(errnoOfReply(c, reply), errno, what);
  };
  const frame = (type: number, body: number[], size?: number) => {
    const m = new Uint8Array(7 + body.length);
    new DataView(m.buffer).setUint32(0, size ?? m.length, true);
    m[4] = type;
    m[5] = 9;
    m.set(body, 7);
    return m;
  };
  await expect(frame(T.TGETATTR, [1, 0, 0, 0], 0xffff_ffff), Errno.EPROTO, 'size past the chain');
  await expect(frame(T.TGETATTR, [1, 0, 0, 0], 3), Errno.EPROTO, 'size below the header');
  await expect(frame(T.TWALK, [1, 0, 0, 0, 2, 0, 0, 0, 5, 0, 1, 0, 0x61]), Errno.EPROTO, 'walk of 5 names holding 1');
  await expect(frame(T.TWALK, [1, 0, 0, 0, 2, 0, 0, 0, 17, 0, ...Array<number>(17 * 3).fill(0).map((_, i) => (i % 3 === 0 ? 1 : i % 3 === 1 ? 0 : 0x61))]), Errno.EINVAL, 'walk of 17 names');
  await expect(frame(T.TWALK, [1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0xff, 0xff, 0x61]), Errno.EPROTO, 'string longer than the message');
  await expect(frame(T.TWALK, [1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 2, 0, 0xc3, 0x28]), Errno.EILSEQ, 'invalid UTF-8 name');
  await expect(frame(T.TWRITE, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xe8, 0x03, 0, 0, 1, 2, 3]), Errno.EPROTO, 'write count past the data');
  await expect(frame(T.TREAD, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 1, 0, 0, 0]), Errno.EINVAL, 'read at offset 2^63');
  await expect(frame(T.TGETATTR, [1, 0]), Errno.EPROTO, 'truncated fid');
  await c.version(8192);
  await c.attach(1);
  await expect(frame(T.TGETATTR, Array<number>(9000).fill(0)), Errno.EMSGSIZE, 'message over the negotiated msize');
  // A read larger than msize, in a chain larger than msize, still gets an msize-sized reply.
  writeFileSync(join(w.root, 'big'), Buffer.alloc(50_000, 1));
  await c.walk(1, 2, ['big']);
  await c.lopen(2, O_RDONLY);
  assert.equal((await c.read(2, 0, 50_000, 60_000)).length, 8192 - 11);
  assert.ok(w.device.stats.errors >= 10);
});

test('unknown fids, fid reuse, double clunk and operations on the wrong kind of fid are errors', async () => {
  const { c } = await world();
  await rejectsWith(c.getattr(42), Errno.EBADF);
  await rejectsWith(c.attach(1), Errno.EBADF); // fid 1 is in use
  await c.walk(1, 2, ['inside.txt']);
  await rejectsWith(c.walk(1, 2, ['sub']), Errno.EBADF);
  await rejectsWith(c.lcreate(2, 'x', O_RDWR), Errno.ENOTDIR);
  await rejectsWith(c.mkdir(2, 'x'), Errno.ENOTDIR);
  await rejectsWith(c.walk(2, 3, ['x']), Errno.ENOTDIR);
  await rejectsWith(c.read(2, 0, 10), Errno.EBADF); // not open
  await rejectsWith(c.fsync(2), Errno.EBADF);
  await rejectsWith(c.lopen(1, O_RDWR), Errno.EISDIR);
  await c.lopen(1, O_RDONLY);
  await rejectsWith(c.read(1, 0, 10), Errno.EISDIR);
  await rejectsWith(c.rpc(T.TLOPEN, (m) => m.u32(2).u32(3)), Errno.EINVAL); // access mode 3
  await c.clunk(2);
  await rejectsWith(c.clunk(2), Errno.EBADF);
  await rejectsWith(c.lopen(2, O_RDONLY), Errno.EBADF);
});

test('huge counts are clamped to the chain and msize; replies that cannot fit are faults, not overruns', async () => {
  const w = await world();
  const c = w.c;
  writeFileSync(join(w.root, 'big'), Buffer.alloc(100_000, 7));
  await c.walk(1, 2, ['big']);
  await c.lopen(2, O_RDONLY);
  // Tread of 4 GiB into a 4096-byte chain: 4085 bytes of data.
  assert.equal((await c.read(2, 0, 0xffff_ffff, 4096)).length, 4096 - 11);
  await c.lopen(1, O_RDONLY);
  const entries = await c.readdir(1, 0, 0xffff_ffff);
  assert.ok(entries.length >= 4);
  // Rgetattr (160 bytes) into 11 bytes: Rlerror(EMSGSIZE).
  await rejectsWith(c.rpc(T.TGETATTR, (m) => m.u32(2).u64(0x7ff), 11), Errno.EMSGSIZE);
  // Into 3 bytes: nothing fits, the chain comes back empty with a fault.
  const faults = c.driver.faults.length;
  const head = c.post(c.frame(T.TGETATTR, (m) => m.u32(2).u64(0x7ff)), 3);
  assert.equal(await c.waitUsed(head), 0);
  c.free(head);
  assert.ok(c.driver.faultKinds().slice(faults).includes('9p-reply-too-big'));
  // A chain with no readable header at all.
  const tiny = c.post(new Uint8Array([1, 2, 3]), 64);
  assert.equal(await c.waitUsed(tiny), 0);
  c.free(tiny);
  assert.ok(c.driver.faultKinds().includes('9p-bad-request'));
  // A readable buffer outside guest RAM.
  const d = c.driver;
  const q = d.queues[0]!;
  const reply = d.alloc(64);
  d.writeDesc(q.desc, 40, 0x7000_0000, 64, VIRTQ_DESC_F_NEXT, 41);
  d.writeDesc(q.desc, 41, reply, 64, VIRTQ_DESC_F_WRITE, 0);
  d.publish(0, 40);
  c.notify();
  assert.equal(await c.waitUsed(40), 0);
  // The device still serves well-formed requests afterwards.
  assert.equal((await c.getattr(2)).size, 100_000n);
  assert.equal(w.device.inFlight, 0);
});

test('random garbage: every chain comes back, nothing escapes, the device keeps working', async () => {
  const w = await world();
  const c = w.c;
  let seed = 0x9e3779b9;
  const random = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x1_0000_0000;
  };
  const types = [...Object.values(T), 0, 1, 6, 99, 106, 112, 255];
  for (let i = 0; i < 400; i++) {
    const body = Uint8Array.from({ length: Math.floor(random() * 48) }, () => (random() < 0.3 ? 0 : random() < 0.5 ? 1 : Math.floor(random() * 256)));
    const type = types[Math.floor(random() * types.length)]!;
    if (type === T.TVERSION || type === T.TREMOVE) continue; // keep the session and the root fid
    const message = new Uint8Array(7 + body.length);
    new DataView(message.buffer).setUint32(0, random() < 0.9 ? message.length : Math.floor(random() * 100), true);
    message[4] = type;
    message.set(body, 7);
    const head = c.post(message, 1 + Math.floor(random() * 512));
    await c.waitUsed(head);
    c.free(head);
  }
  await w.device.drain();
  assert.equal(w.snapshot(), w.before);
  assert.equal(existsSync(join(w.root, 'inside.txt')), true);
  await c.attach(0x7777_7777);
  await c.walk(0x7777_7777, 0x7777_7778, ['inside.txt']);
  assert.equal((await c.getattr(0x7777_7778)).size, 6n);
});
