import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBoardFdt, type BoardDescription } from './board-fdt.js';
import { decompileDtb } from './dtc.js';
import { readFdt } from './fdt-reader.js';
import type { FdtNode } from './fdt-node.js';
import { CLINT, PLIC, PLIC_SOURCES, RAM_BASE, TEST_FINISHER, UART0, UART0_CLOCK_HZ, VMGENID, VMGENID_IRQ } from '../layout.js';
import { TIMEBASE_HZ } from '../virtual-clock.js';

const RAM_SIZE = 128 * 1024 * 1024;

const board: BoardDescription = {
  hartIds: [0],
  timebaseFrequency: TIMEBASE_HZ,
  memory: { base: RAM_BASE, size: RAM_SIZE },
  clint: CLINT,
  uart: { ...UART0, clockFrequency: UART0_CLOCK_HZ },
  testFinisher: TEST_FINISHER,
  bootargs: 'console=ttyS0 earlycon',
};

/** The reference tree of QEMU's virt board with the same RAM and one hart. Fails loudly without QEMU. */
function qemuVirtTree(): FdtNode {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-fdt-'));
  try {
    const file = join(dir, 'virt.dtb');
    const result = spawnSync(
      'qemu-system-riscv64',
      ['-M', `virt,dumpdtb=${file}`, '-m', '128M', '-smp', '1', '-bios', 'none', '-display', 'none', '-nodefaults'],
      { encoding: 'utf8' },
    );
    if (result.error) throw new Error(`cannot run qemu-system-riscv64 (${result.error.message}); install qemu-system-misc`);
    assert.equal(result.status, 0, `QEMU failed to dump its device tree:\n${result.stderr}`);
    return readFdt(readFileSync(file)).root;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Paths of every node, with the phandle -> path map for resolving references. */
function index(root: FdtNode) {
  const paths: string[] = [];
  const byPhandle = new Map<number, string>();
  const walk = (node: FdtNode, path: string) => {
    paths.push(path || '/');
    const ph = node.getCells('phandle');
    if (ph) byPhandle.set(ph[0]!, path || '/');
    for (const c of node.children) walk(c, `${path}/${c.name}`);
  };
  walk(root, '');
  return { paths, byPhandle };
}

test('dtc decompiles the board blob without a single warning', () => {
  const { dts, warnings } = decompileDtb(createBoardFdt(board));
  assert.equal(warnings, '');
  assert.match(dts, /riscv,isa = "rv64imafdc_zicsr_zifencei_sstc";/);
  assert.match(dts, /riscv,isa-extensions = "i\\0m\\0a\\0f\\0d\\0c\\0zicsr\\0zifencei\\0zicntr\\0sstc";/);
  assert.match(dts, /riscv,isa-base = "rv64i";/);
  assert.match(dts, /mmu-type = "riscv,sv48";/);
  assert.match(dts, /timebase-frequency = <0x989680>;/);
  assert.match(dts, /compatible = "riscv,cpu-intc";/);
  assert.match(dts, /bootargs = "console=ttyS0 earlycon";/);
  assert.match(dts, /stdout-path = "\/soc\/serial@10000000";/);
  assert.match(dts, /compatible = "sifive,test1\\0sifive,test0\\0syscon";/);
});

test('only attached devices appear', () => {
  const { root } = readFdt(createBoardFdt({ hartIds: [0], timebaseFrequency: TIMEBASE_HZ, memory: { base: RAM_BASE, size: RAM_SIZE } }));
  const { paths } = index(root);
  assert.deepEqual(paths.sort(), ['/', '/chosen', '/cpus', '/cpus/cpu@0', '/cpus/cpu@0/interrupt-controller', '/memory@80000000', '/soc']);
  assert.equal(root.find('/chosen')!.getBytes('stdout-path'), undefined);
});

test('the CLINT lists msip and mtip of every hart', () => {
  const { root } = readFdt(createBoardFdt({ ...board, hartIds: [0, 1] }));
  const { byPhandle } = index(root);
  const cells = root.find('/soc/clint@2000000')!.getCells('interrupts-extended')!;
  const pairs = [];
  for (let i = 0; i < cells.length; i += 2) pairs.push(`${byPhandle.get(cells[i]!)}:${cells[i + 1]}`);
  assert.deepEqual(pairs, [
    '/cpus/cpu@0/interrupt-controller:3',
    '/cpus/cpu@0/interrupt-controller:7',
    '/cpus/cpu@1/interrupt-controller:3',
    '/cpus/cpu@1/interrupt-controller:7',
  ]);
});

test("every node sits where QEMU's virt board puts it, with the same bindings", () => {
  const ours = readFdt(createBoardFdt(board)).root;
  const ref = qemuVirtTree();
  const oursIndex = index(ours);
  const refIndex = index(ref);
  for (const path of oursIndex.paths) assert.ok(refIndex.paths.includes(path), `QEMU's tree has no ${path}`);

  const same = (path: string, props: string[]) => {
    for (const p of props) {
      assert.deepEqual(ours.find(path)!.getBytes(p), ref.find(path)!.getBytes(p), `${path} ${p}`);
    }
  };
  same('/', ['#address-cells', '#size-cells']);
  same('/cpus', ['#address-cells', '#size-cells', 'timebase-frequency']);
  same('/cpus/cpu@0', ['device_type', 'reg', 'status', 'compatible', 'mmu-type']);
  same('/cpus/cpu@0/interrupt-controller', ['#interrupt-cells', 'interrupt-controller', 'compatible']);
  same('/memory@80000000', ['device_type', 'reg']);
  same('/soc', ['#address-cells', '#size-cells', 'compatible', 'ranges']);
  same('/soc/clint@2000000', ['compatible', 'reg']);
  same('/soc/serial@10000000', ['compatible', 'reg', 'clock-frequency']);
  same('/soc/test@100000', ['compatible', 'reg']);
  same('/poweroff', ['compatible', 'offset', 'value']);
  same('/reboot', ['compatible', 'offset', 'value']);
  same('/chosen', ['stdout-path']);

  // References compared by what they point at, since phandle numbers differ.
  const resolved = (tree: FdtNode, byPhandle: Map<number, string>, path: string, prop: string) =>
    tree.find(path)!.getCells(prop)!.map((c, i) => (i % 2 === 0 ? byPhandle.get(c) : c));
  assert.deepEqual(
    resolved(ours, oursIndex.byPhandle, '/soc/clint@2000000', 'interrupts-extended'),
    resolved(ref, refIndex.byPhandle, '/soc/clint@2000000', 'interrupts-extended'),
  );
  for (const node of ['/poweroff', '/reboot']) {
    assert.equal(oursIndex.byPhandle.get(ours.find(node)!.getCells('regmap')![0]!), '/soc/test@100000');
    assert.equal(refIndex.byPhandle.get(ref.find(node)!.getCells('regmap')![0]!), '/soc/test@100000');
  }
  // Our ISA is a subset of QEMU's default hart.
  const isa = (tree: FdtNode) => tree.find('/cpus/cpu@0')!.getStrings('riscv,isa')![0]!;
  assert.ok(isa(ref).startsWith('rv64imafdc'), isa(ref));
  for (const ext of isa(ours).split('_').slice(1)) assert.ok(isa(ref).split('_').includes(ext), `QEMU's hart lacks ${ext}`);
});

test('the VM generation ID node follows the microsoft,vmgenid binding: window, PLIC interrupt', () => {
  const withPlic: BoardDescription = { ...board, plic: { ...PLIC, sources: PLIC_SOURCES }, vmgenid: { ...VMGENID, irq: VMGENID_IRQ } };
  const blob = createBoardFdt(withPlic);
  assert.equal(decompileDtb(blob).warnings, '');
  const { root } = readFdt(blob);
  const { byPhandle } = index(root);
  const node = root.find('/soc/rng@102000')!;
  assert.deepEqual(node.getStrings('compatible'), ['microsoft,vmgenid']);
  assert.deepEqual(node.getCells('reg'), [0, 0x10_2000, 0, 0x1000]);
  assert.deepEqual(node.getCells('interrupts'), [12]);
  assert.equal(byPhandle.get(node.getCells('interrupt-parent')![0]!), '/soc/plic@c000000');
  // The binding requires the interrupt: without a PLIC the node is left out.
  const noPlic = readFdt(createBoardFdt({ ...board, vmgenid: { ...VMGENID, irq: VMGENID_IRQ } })).root;
  assert.equal(noPlic.find('/soc/rng@102000'), undefined);
});
