import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDiskImage } from '../../storage/disk-image.js';
import { MessageType, MigrationChannel } from './migration-channel.js';
import { DiskMirror, MIRROR_BLOCK, applyDiskData, trackDisk } from './disk-mirror.js';
import { createCopies } from './disk-copies.js';

async function socketPair(): Promise<[Socket, Socket]> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<Socket>((r) => server.once('connection', r));
  const client = connect({ host: '127.0.0.1', port: (server.address() as { port: number }).port });
  const other = await accepted;
  server.close();
  return [client, other];
}

test('a disk copied while written: the copy ends equal, blocks written after the first pass included, zeros included', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-mirror-'));
  try {
    const source = join(dir, 'source.raw');
    const size = 4 << 20;
    const content = Buffer.alloc(size);
    randomBytes(1 << 20).copy(content, 1 << 20); // one MiB of data in a disk of zeros
    writeFileSync(source, content);
    const disk = trackDisk(await openDiskImage(source, { format: 'raw' }));
    const [a, b] = await socketPair();
    const sender = new MigrationChannel(a, 'the destination');
    const receiver = new MigrationChannel(b, 'the source');
    const copies = await createCopies(join(dir), [{ path: source, readOnly: false, serial: 'd', limits: {} }], [{ size, readOnly: false, discard: false, writeZeroes: false }]);
    const applied = (async () => {
      for (;;) {
        const m = await receiver.receive();
        if (m.type === MessageType.ROUND_END) return;
        await applyDiskData(m.payload, copies.images);
      }
    })();
    const mirror = new DiskMirror(sender, [disk]);
    let progress = 0;
    await mirror.copyAll((done) => (progress = done));
    assert.equal(progress, size);
    // The guest writes after the first pass: new data in a zero area, and zeros over data.
    await disk.write(3 * MIRROR_BLOCK, randomBytes(MIRROR_BLOCK));
    await disk.write(1 << 20, new Uint8Array(8192));
    assert.ok(mirror.pendingBytes() >= 2 * MIRROR_BLOCK);
    assert.equal(await mirror.sendDirty(), 2);
    assert.equal(await mirror.sendDirty(), 0);
    await sender.send(MessageType.ROUND_END, {});
    await applied;
    const [described] = await copies.finish([{ path: source, readOnly: false, serial: 'd', limits: {} }]);
    assert.match(described!.path, /0-source\.raw\.qcow2$/);
    await disk.close();
    const copy = await openDiskImage(described!.path, { format: 'qcow2', readOnly: true });
    const back = new Uint8Array(size);
    await copy.read(0, back);
    await copy.close();
    assert.deepEqual(Buffer.from(back), readFileSync(source));
    sender.close();
    receiver.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('blocks that do not fit the copies are refused: an unknown disk, past the end, a bad length', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-mirror-'));
  try {
    const copies = await createCopies(dir, [{ path: '/x/disk.qcow2', readOnly: false, serial: 'd', limits: {} }], [{ size: 1 << 20, readOnly: false, discard: false, writeZeroes: false }]);
    const block = (disk: number, offset: number, length: number, zero = 1) => {
      const m = new Uint8Array(20);
      const v = new DataView(m.buffer);
      v.setUint32(0, disk, true);
      v.setUint32(4, offset, true);
      v.setUint32(12, length, true);
      v.setUint32(16, zero, true);
      return m;
    };
    await assert.rejects(applyDiskData(block(1, 0, 512), copies.images), /disk 1, which it never announced/);
    await assert.rejects(applyDiskData(block(0, 1 << 20, 512), copies.images), /malformed block/);
    await assert.rejects(applyDiskData(block(0, 0, 100), copies.images), /malformed block/);
    await assert.rejects(applyDiskData(block(0, 0, 512, 0), copies.images), /malformed block/);
    await assert.rejects(applyDiskData(new Uint8Array(3), copies.images), /shorter than its header/);
    await copies.discard();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
