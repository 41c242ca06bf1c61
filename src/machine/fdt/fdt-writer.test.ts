import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FdtError, FdtNode } from './fdt-node.js';
import { FDT_MAGIC, writeFdt } from './fdt-writer.js';
import { readFdt } from './fdt-reader.js';
import { decompileDtb } from './dtc.js';

function sample(): FdtNode {
  const root = new FdtNode('').setU32('#address-cells', 2).setU32('#size-cells', 2).setString('model', 'x');
  const child = new FdtNode('node@1000').setCells('reg', [0, 0x1000, 0, 0x10]).setStrings('compatible', ['a,b', 'c']);
  child.addChild(new FdtNode('leaf').setEmpty('flag').setString('compatible', 'odd-len'));
  root.addChild(child);
  return root;
}

test('header: magic, version 17, last compatible 16, sizes consistent, boot cpu', () => {
  const blob = writeFdt(sample(), { bootCpuId: 3 });
  const view = new DataView(blob.buffer);
  assert.equal(view.getUint32(0), FDT_MAGIC);
  assert.equal(view.getUint32(4), blob.length);
  assert.equal(view.getUint32(20), 17);
  assert.equal(view.getUint32(24), 16);
  assert.equal(view.getUint32(28), 3);
  assert.equal(view.getUint32(16) % 8, 0, 'reservation block 8-byte aligned');
  assert.equal(view.getUint32(8) % 4, 0, 'structure block 4-byte aligned');
  assert.equal(view.getUint32(12) + view.getUint32(32), blob.length, 'strings block ends the blob');
});

test('property names are stored once in the strings block', () => {
  const blob = writeFdt(sample());
  const view = new DataView(blob.buffer);
  const strings = new TextDecoder().decode(blob.subarray(view.getUint32(12)));
  assert.equal(strings.split('\0').filter((s) => s === 'compatible').length, 1);
});

test('round-trips through the reader with properties, order and reservations intact', () => {
  const blob = writeFdt(sample(), { reservations: [{ address: 0x8000_0000n, size: 0x20_0000n }] });
  const parsed = readFdt(blob);
  assert.equal(parsed.version, 17);
  assert.deepEqual(parsed.reservations, [{ address: 0x8000_0000n, size: 0x20_0000n }]);
  const node = parsed.root.find('/node@1000')!;
  assert.deepEqual(node.getCells('reg'), [0, 0x1000, 0, 0x10]);
  assert.deepEqual(node.getStrings('compatible'), ['a,b', 'c']);
  assert.equal(parsed.root.find('/node@1000/leaf')!.getBytes('flag')!.length, 0);
  assert.deepEqual([...parsed.root.properties.keys()], ['#address-cells', '#size-cells', 'model']);
});

test('dtc accepts the blob and sees the same tree', () => {
  const { dts, warnings } = decompileDtb(writeFdt(sample(), { reservations: [{ address: 0x1000n, size: 0x1000n }] }));
  assert.equal(warnings, '');
  assert.match(dts, /\/memreserve\/\s+0x0*1000 0x0*1000;/);
  assert.match(dts, /node@1000 \{\s+reg = <0x00 0x1000 0x00 0x10>;\s+compatible = "a,b\\0c";/);
  assert.match(dts, /leaf \{\s+flag;\s+compatible = "odd-len";/);
});

test('rejects bad names, duplicates and out-of-range cells with FdtError', () => {
  assert.throws(() => new FdtNode('has space'), FdtError);
  assert.throws(() => new FdtNode('n').setU32('bad name', 1), FdtError);
  assert.throws(() => new FdtNode('n').setU32('x', 1).setU32('x', 2), /already has property "x"/);
  assert.throws(() => new FdtNode('n').setU32('x', 2 ** 32), /not a 32-bit/);
  const parent = new FdtNode('p');
  parent.addChild(new FdtNode('c'));
  assert.throws(() => parent.addChild(new FdtNode('c')), /already has a child "c"/);
  assert.throws(() => writeFdt(new FdtNode('notroot')), /root node must have an empty name/);
});

test('the reader rejects garbage and truncated blobs', () => {
  assert.throws(() => readFdt(new Uint8Array(64)), /not a devicetree blob/);
  const blob = writeFdt(sample());
  assert.throws(() => readFdt(blob.subarray(0, blob.length - 8)), /truncated/);
});
