// The 16-byte virtio-blk request header (type, reserved, sector) the block tests submit.

export function blockRequestHeader(type: number, sector: number): Uint8Array {
  const h = new Uint8Array(16);
  const v = new DataView(h.buffer);
  v.setUint32(0, type, true);
  v.setBigUint64(8, BigInt(sector), true);
  return h;
}
