// Parses a flattened devicetree blob (versions 16 and 17, DTSpec chapter 5) back into FdtNode
// trees: used to check what the board writes and to inspect blobs from elsewhere.

import { FdtError, FdtNode } from './fdt-node.js';
import {
  FDT_BEGIN_NODE,
  FDT_END,
  FDT_END_NODE,
  FDT_MAGIC,
  FDT_NOP,
  FDT_PROP,
  type FdtReservation,
} from './fdt-writer.js';

export interface ParsedFdt {
  root: FdtNode;
  version: number;
  bootCpuId: number;
  reservations: FdtReservation[];
}

export function readFdt(blob: Uint8Array): ParsedFdt {
  if (blob.length < 40) throw new FdtError(`devicetree blob is ${blob.length} bytes, shorter than its 40-byte header`);
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const word = (at: number) => {
    if (at + 4 > blob.length) throw new FdtError(`devicetree blob truncated: needs a word at offset ${at}`);
    return view.getUint32(at);
  };
  if (word(0) !== FDT_MAGIC) throw new FdtError(`not a devicetree blob: magic 0x${word(0).toString(16)}, expected 0xd00dfeed`);
  const totalSize = word(4);
  const structOffset = word(8);
  const stringsOffset = word(12);
  const rsvOffset = word(16);
  const version = word(20);
  const bootCpuId = word(28);
  if (totalSize > blob.length) throw new FdtError(`devicetree blob truncated: header says ${totalSize} bytes, have ${blob.length}`);
  if (version < 16) throw new FdtError(`devicetree blob version ${version} is too old; need 16 or later`);
  const decoder = new TextDecoder();

  const reservations: FdtReservation[] = [];
  for (let at = rsvOffset; ; at += 16) {
    if (at + 16 > totalSize) throw new FdtError('devicetree memory reservation block is not terminated');
    const address = view.getBigUint64(at);
    const size = view.getBigUint64(at + 8);
    if (address === 0n && size === 0n) break;
    reservations.push({ address, size });
  }

  const cString = (at: number, limit: number): [string, number] => {
    let end = at;
    while (end < limit && blob[end] !== 0) end++;
    if (end >= limit) throw new FdtError(`devicetree string at offset ${at} is not terminated`);
    return [decoder.decode(blob.subarray(at, end)), end + 1];
  };

  let at = structOffset;
  const stack: FdtNode[] = [];
  let root: FdtNode | null = null;
  for (;;) {
    const token = word(at);
    at += 4;
    if (token === FDT_BEGIN_NODE) {
      const [name, next] = cString(at, totalSize);
      at = (next + 3) & ~3;
      const node = new FdtNode(name);
      if (stack.length === 0) {
        if (root !== null) throw new FdtError('devicetree blob has more than one root node');
        root = node;
      } else stack[stack.length - 1]!.addChild(node);
      stack.push(node);
    } else if (token === FDT_PROP) {
      const len = word(at);
      const nameOff = word(at + 4);
      at += 8;
      if (stack.length === 0 || at + len > totalSize) throw new FdtError(`devicetree property at offset ${at - 12} is outside a node or the blob`);
      const [name] = cString(stringsOffset + nameOff, totalSize);
      // A plain copy, whatever kind of view (a Node Buffer, say) the blob came in.
      stack[stack.length - 1]!.setBytes(name, new Uint8Array(blob.subarray(at, at + len)));
      at = (at + len + 3) & ~3;
    } else if (token === FDT_END_NODE) {
      if (stack.pop() === undefined) throw new FdtError(`devicetree blob closes more nodes than it opens (offset ${at - 4})`);
    } else if (token === FDT_END) {
      if (stack.length !== 0 || root === null) throw new FdtError('devicetree structure ends inside a node');
      return { root, version, bootCpuId, reservations };
    } else if (token !== FDT_NOP) {
      throw new FdtError(`unknown devicetree token 0x${token.toString(16)} at offset ${at - 4}`);
    }
  }
}
