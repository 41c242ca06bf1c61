// A 9P2000.L client for unit tests of virtio-9p: it frames T-messages, sends each in a chain of the
// device's request queue (through VirtioTestDriver and a real MMIO transport), waits for the used
// ring to return it and decodes the R-message. Rlerror rejects with a NinePReplyError.

import { NinePReader, NinePType as T, NinePWriter, type Qid } from '../9p/messages.js';
import { VirtioMmioRegister } from '../mmio-transport.js';
import type { VirtioDevice } from '../virtio-device.js';
import { TEST_RAM_BASE, VirtioTestDriver } from './virtio-test-driver.js';
import { VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE } from '../virtqueue.js';

export class NinePReplyError extends Error {
  constructor(readonly errno: number) {
    super(`Rlerror ${errno}`);
  }
}

export interface DirEntryReply {
  qid: Qid;
  offset: bigint;
  type: number;
  name: string;
}

export interface AttrReply {
  valid: bigint;
  qid: Qid;
  mode: number;
  uid: number;
  gid: number;
  nlink: bigint;
  size: bigint;
  mtimeSec: bigint;
  atimeSec: bigint;
}

const SLOTS = 16;
const OUT_BYTES = 160 * 1024;
const IN_BYTES = 160 * 1024;

interface Slot {
  out: number;
  in: number;
  busy: boolean;
}

export class NinePTestClient<S = unknown> {
  readonly driver: VirtioTestDriver<S>;
  private readonly slots: Slot[] = [];
  private readonly used = new Map<number, number>();
  private tag = 1;

  constructor(readonly device: VirtioDevice<S>) {
    this.driver = new VirtioTestDriver(device, { ramBytes: 8 << 20 });
    this.driver.init();
    for (let i = 0; i < SLOTS; i++) this.slots.push({ out: this.driver.alloc(OUT_BYTES), in: this.driver.alloc(IN_BYTES), busy: false });
  }

  /** A T-message of `type` with fields written by `fill`. */
  frame(type: number, fill: (w: NinePWriter) => void = () => {}, tag = this.tag++ & 0xffff): Uint8Array {
    const w = new NinePWriter(OUT_BYTES);
    fill(w);
    return w.finish(type, tag).slice();
  }

  /**
   * Sends `message` in a two-descriptor chain with `room` writable bytes and resolves with the
   * bytes the device wrote (the used length of them).
   */
  async send(message: Uint8Array, room = IN_BYTES): Promise<Uint8Array> {
    const head = this.post(message, room);
    const len = await this.waitUsed(head);
    const slot = this.slots[head / 2]!;
    slot.busy = false;
    return this.driver.bytes(slot.in, len);
  }

  /** Publishes a chain without waiting; returns its head (give it to waitUsed). */
  post(message: Uint8Array, room = IN_BYTES, notify = true): number {
    const index = this.slots.findIndex((s) => !s.busy);
    if (index < 0) throw new Error('test client: every request slot is busy');
    if (message.length > OUT_BYTES || room > IN_BYTES) throw new Error('test client: message or room larger than a slot');
    const slot = this.slots[index]!;
    slot.busy = true;
    this.driver.put(slot.out, message);
    this.driver.ram.fill(0, slot.in - TEST_RAM_BASE, slot.in - TEST_RAM_BASE + IN_BYTES);
    const desc = this.driver.queues[0]!.desc;
    const head = 2 * index;
    this.driver.writeDesc(desc, head, slot.out, message.length, VIRTQ_DESC_F_NEXT, head + 1);
    this.driver.writeDesc(desc, head + 1, slot.in, room, VIRTQ_DESC_F_WRITE, 0);
    this.driver.publish(0, head);
    if (notify) this.notify();
    return head;
  }

  notify(): void {
    this.driver.w(VirtioMmioRegister.QUEUE_NOTIFY, 0);
  }

  /** Waits until chain `head` comes back; resolves with its used length. */
  async waitUsed(head: number, timeoutMs = 5000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const u of this.driver.takeUsed(0)) this.used.set(u.id, u.len);
      const len = this.used.get(head);
      if (len !== undefined) {
        this.used.delete(head);
        return len;
      }
      if (Date.now() > deadline) throw new Error(`test client: chain ${head} not returned in ${timeoutMs} ms`);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Marks the slot of `head` free again (after post + waitUsed). */
  free(head: number): void {
    this.slots[head / 2]!.busy = false;
  }

  /** Sends a T-message and returns a reader over the R-message's fields; Rlerror rejects. */
  async rpc(type: number, fill: (w: NinePWriter) => void = () => {}, room?: number): Promise<NinePReader> {
    const reply = await this.send(this.frame(type, fill), room);
    return this.decode(type, reply);
  }

  decode(type: number, reply: Uint8Array): NinePReader {
    if (reply.length < 7) throw new Error(`test client: short reply of ${reply.length} bytes`);
    const r = new NinePReader(reply);
    const size = new DataView(reply.buffer, reply.byteOffset).getUint32(0, true);
    if (size !== reply.length) throw new Error(`test client: reply size field ${size}, used length ${reply.length}`);
    if (reply[4] === T.RLERROR) throw new NinePReplyError(r.u32());
    if (reply[4] !== type + 1) throw new Error(`test client: reply type ${reply[4]} to ${type}`);
    return r;
  }

  static qid(r: NinePReader): Qid {
    return { type: r.u8(), version: r.u32(), path: r.u64() };
  }

  async version(msize = 512 * 1024, version = '9P2000.L'): Promise<{ msize: number; version: string }> {
    const r = await this.rpc(T.TVERSION, (w) => w.u32(msize).str(version));
    return { msize: r.u32(), version: r.str() };
  }

  async attach(fid: number, aname = ''): Promise<Qid> {
    return NinePTestClient.qid(await this.rpc(T.TATTACH, (w) => w.u32(fid).u32(0xffff_ffff).str('root').str(aname).u32(0)));
  }

  async walk(fid: number, newFid: number, names: readonly string[]): Promise<Qid[]> {
    const r = await this.rpc(T.TWALK, (w) => {
      w.u32(fid).u32(newFid).u16(names.length);
      for (const n of names) w.str(n);
    });
    return Array.from({ length: r.u16() }, () => NinePTestClient.qid(r));
  }

  async lopen(fid: number, flags: number): Promise<Qid> {
    return NinePTestClient.qid(await this.rpc(T.TLOPEN, (w) => w.u32(fid).u32(flags)));
  }

  async lcreate(fid: number, name: string, flags: number, mode = 0o644): Promise<Qid> {
    return NinePTestClient.qid(await this.rpc(T.TLCREATE, (w) => w.u32(fid).str(name).u32(flags).u32(mode).u32(0)));
  }

  async read(fid: number, offset: number, count: number, room?: number): Promise<Uint8Array> {
    const r = await this.rpc(T.TREAD, (w) => w.u32(fid).u64(offset).u32(count), room);
    return r.bytes(r.u32()).slice();
  }

  async write(fid: number, offset: number, data: Uint8Array): Promise<number> {
    return (await this.rpc(T.TWRITE, (w) => w.u32(fid).u64(offset).u32(data.length).bytes(data))).u32();
  }

  async clunk(fid: number): Promise<void> {
    await this.rpc(T.TCLUNK, (w) => w.u32(fid));
  }

  async remove(fid: number): Promise<void> {
    await this.rpc(T.TREMOVE, (w) => w.u32(fid));
  }

  async readdir(fid: number, offset: bigint | number, count: number): Promise<DirEntryReply[]> {
    const r = await this.rpc(T.TREADDIR, (w) => w.u32(fid).u64(offset).u32(count));
    const data = new NinePReader(r.bytes(r.u32()), 0);
    const out: DirEntryReply[] = [];
    while (data.remaining > 0) out.push({ qid: NinePTestClient.qid(data), offset: data.u64(), type: data.u8(), name: data.str() });
    return out;
  }

  /** Every entry of open directory `fid`, reading `count` bytes at a time. */
  async readdirAll(fid: number, count = 4096): Promise<DirEntryReply[]> {
    const all: DirEntryReply[] = [];
    let offset = 0n;
    for (;;) {
      const batch = await this.readdir(fid, offset, count);
      if (batch.length === 0) return all;
      all.push(...batch);
      offset = batch.at(-1)!.offset;
    }
  }

  async getattr(fid: number): Promise<AttrReply> {
    const r = await this.rpc(T.TGETATTR, (w) => w.u32(fid).u64(0x3fff));
    const valid = r.u64();
    const qid = NinePTestClient.qid(r);
    const mode = r.u32();
    const uid = r.u32();
    const gid = r.u32();
    const nlink = r.u64();
    r.u64(); // rdev
    const size = r.u64();
    r.u64(); // blksize
    r.u64(); // blocks
    const atimeSec = r.u64();
    r.u64();
    const mtimeSec = r.u64();
    return { valid, qid, mode, uid, gid, nlink, size, mtimeSec, atimeSec };
  }

  async setattr(fid: number, a: { valid: number; mode?: number; uid?: number; gid?: number; size?: number; atime?: number; mtime?: number }): Promise<void> {
    await this.rpc(T.TSETATTR, (w) =>
      w.u32(fid).u32(a.valid).u32(a.mode ?? 0).u32(a.uid ?? 0).u32(a.gid ?? 0).u64(a.size ?? 0).u64(a.atime ?? 0).u64(0).u64(a.mtime ?? 0).u64(0),
    );
  }

  async mkdir(dfid: number, name: string, mode = 0o755): Promise<Qid> {
    return NinePTestClient.qid(await this.rpc(T.TMKDIR, (w) => w.u32(dfid).str(name).u32(mode).u32(0)));
  }

  async symlink(dfid: number, name: string, target: string): Promise<Qid> {
    return NinePTestClient.qid(await this.rpc(T.TSYMLINK, (w) => w.u32(dfid).str(name).str(target).u32(0)));
  }

  async mknod(dfid: number, name: string, mode: number, major = 0, minor = 0): Promise<Qid> {
    return NinePTestClient.qid(await this.rpc(T.TMKNOD, (w) => w.u32(dfid).str(name).u32(mode).u32(major).u32(minor).u32(0)));
  }

  async readlink(fid: number): Promise<string> {
    return (await this.rpc(T.TREADLINK, (w) => w.u32(fid))).str();
  }

  async link(dfid: number, fid: number, name: string): Promise<void> {
    await this.rpc(T.TLINK, (w) => w.u32(dfid).u32(fid).str(name));
  }

  async rename(fid: number, dfid: number, name: string): Promise<void> {
    await this.rpc(T.TRENAME, (w) => w.u32(fid).u32(dfid).str(name));
  }

  async renameat(oldDir: number, oldName: string, newDir: number, newName: string): Promise<void> {
    await this.rpc(T.TRENAMEAT, (w) => w.u32(oldDir).str(oldName).u32(newDir).str(newName));
  }

  async unlinkat(dfid: number, name: string, flags = 0): Promise<void> {
    await this.rpc(T.TUNLINKAT, (w) => w.u32(dfid).str(name).u32(flags));
  }

  async statfs(fid: number): Promise<{ bsize: number; blocks: bigint; namelen: number }> {
    const r = await this.rpc(T.TSTATFS, (w) => w.u32(fid));
    r.u32();
    const bsize = r.u32();
    const blocks = r.u64();
    for (let i = 0; i < 5; i++) r.u64();
    return { bsize, blocks, namelen: r.u32() };
  }

  async fsync(fid: number, datasync = 0): Promise<void> {
    await this.rpc(T.TFSYNC, (w) => w.u32(fid).u32(datasync));
  }

  /** Version, then attach fid `fid` to the root. */
  async mount(fid = 0): Promise<Qid> {
    await this.version();
    return this.attach(fid);
  }
}
