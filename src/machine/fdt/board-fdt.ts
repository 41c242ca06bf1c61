// The board's device tree, built from what is actually attached: one createXNode() per node.
// Bindings: Linux Documentation/devicetree/bindings (riscv/cpus.yaml, serial/8250.yaml,
// timer/sifive,clint.yaml, power/reset/syscon-poweroff.yaml and syscon-reboot.yaml,
// rng/microsoft,vmgenid.yaml).

import { FinisherStatus } from '../../devices/test-finisher.js';
import type { Region } from '../layout.js';
import { FdtNode, cells64 } from './fdt-node.js';
import { writeFdt } from './fdt-writer.js';

/** ISA string and extension list the hart implements (riscv/extensions.yaml). */
export const RISCV_ISA = 'rv64imafdc_zicsr_zifencei_sstc';
export const RISCV_ISA_BASE = 'rv64i';
export const RISCV_ISA_EXTENSIONS = ['i', 'm', 'a', 'f', 'd', 'c', 'zicsr', 'zifencei', 'zicntr', 'sstc'] as const;
export const MMU_TYPE = 'riscv,sv48';

/** mip bit numbers a CLINT drives, for interrupts-extended (Priv. spec 3.1.9). */
const IRQ_M_SOFT = 3;
const IRQ_M_TIMER = 7;
const IRQ_S_EXTERNAL = 9;
const IRQ_M_EXTERNAL = 11;

export interface BoardDescription {
  hartIds: readonly number[];
  timebaseFrequency: number;
  memory: Region;
  clint?: Region;
  uart?: Region & { clockFrequency: number; irq?: number };
  testFinisher?: Region;
  /** The PLIC; devices with an `irq` are its sources. */
  plic?: Region & { sources: number };
  rtc?: Region & { irq: number };
  /** The VM generation ID; its binding requires the interrupt, so it is left out without a PLIC. */
  vmgenid?: Region & { irq: number };
  /** virtio-mmio transports in slot order. */
  virtio?: ReadonlyArray<Region & { irq: number }>;
  bootargs?: string;
  /** Where the initial ramdisk was placed: [start, end). */
  initrd?: { start: number; end: number };
}

/** Hands out phandles, 1 upwards. */
export class Phandles {
  private next = 1;
  allocate(): number {
    return this.next++;
  }
}

const unitAddress = (base: number) => base.toString(16);
const reg = (region: Region) => [...cells64(region.base), ...cells64(region.size)];

/** Builds the complete blob for a board. */
export function createBoardFdt(board: BoardDescription): Uint8Array {
  const phandles = new Phandles();
  const root = createRootNode();
  const cpus = createCpusNode(board.timebaseFrequency);
  /** phandle of each hart's interrupt controller, by hart id. */
  const intcs = new Map<number, number>();
  for (const hartId of board.hartIds) {
    const intc = phandles.allocate();
    intcs.set(hartId, intc);
    cpus.addChild(createCpuNode(hartId, intc));
  }
  root.addChild(cpus);
  root.addChild(createMemoryNode(board.memory));
  const soc = root.addChild(createSocNode());
  if (board.clint) soc.addChild(createClintNode(board.clint, [...intcs.values()]));
  // Sources are only wired when there is a PLIC to route them.
  const plic = board.plic ? phandles.allocate() : undefined;
  if (board.plic && plic !== undefined) soc.addChild(createPlicNode(board.plic, plic, [...intcs.values()]));
  const irq = (node: FdtNode, source: number | undefined) => {
    if (plic !== undefined && source !== undefined) node.setU32('interrupt-parent', plic).setU32('interrupts', source);
    return node;
  };
  let stdoutPath: string | undefined;
  if (board.uart) {
    const uart = soc.addChild(irq(createUartNode(board.uart, board.uart.clockFrequency), board.uart.irq));
    stdoutPath = `/soc/${uart.name}`;
  }
  if (board.rtc) soc.addChild(irq(createRtcNode(board.rtc), board.rtc.irq));
  if (board.vmgenid && plic !== undefined) soc.addChild(irq(createVmGenIdNode(board.vmgenid), board.vmgenid.irq));
  for (const slot of board.virtio ?? []) soc.addChild(irq(createVirtioMmioNode(slot), slot.irq));
  if (board.testFinisher) {
    const test = phandles.allocate();
    soc.addChild(createTestFinisherNode(board.testFinisher, test));
    root.addChild(createPoweroffNode(test));
    root.addChild(createRebootNode(test));
  }
  root.addChild(createChosenNode(stdoutPath, board.bootargs, board.initrd));
  return writeFdt(root, { bootCpuId: board.hartIds[0] ?? 0 });
}

export function createRootNode(): FdtNode {
  return new FdtNode('')
    .setU32('#address-cells', 2)
    .setU32('#size-cells', 2)
    .setString('compatible', 'vireo,virt')
    .setString('model', 'Vireo virt board');
}

export function createCpusNode(timebaseFrequency: number): FdtNode {
  return new FdtNode('cpus')
    .setU32('#address-cells', 1)
    .setU32('#size-cells', 0)
    .setU32('timebase-frequency', timebaseFrequency);
}

export function createCpuNode(hartId: number, intcPhandle: number): FdtNode {
  const cpu = new FdtNode(`cpu@${unitAddress(hartId)}`)
    .setString('device_type', 'cpu')
    .setU32('reg', hartId)
    .setString('status', 'okay')
    .setString('compatible', 'riscv')
    .setString('riscv,isa', RISCV_ISA)
    .setString('riscv,isa-base', RISCV_ISA_BASE)
    .setStrings('riscv,isa-extensions', RISCV_ISA_EXTENSIONS)
    .setString('mmu-type', MMU_TYPE);
  cpu.addChild(createCpuIntcNode(intcPhandle));
  return cpu;
}

/** The hart-local interrupt controller: the mip bits (riscv/cpus.yaml). */
export function createCpuIntcNode(phandle: number): FdtNode {
  // #address-cells = <0>: an interrupt provider needs it for interrupt-map parents (dtc warns without it).
  return new FdtNode('interrupt-controller')
    .setU32('#address-cells', 0)
    .setU32('#interrupt-cells', 1)
    .setEmpty('interrupt-controller')
    .setString('compatible', 'riscv,cpu-intc')
    .setU32('phandle', phandle);
}

export function createMemoryNode(memory: Region): FdtNode {
  return new FdtNode(`memory@${unitAddress(memory.base)}`)
    .setString('device_type', 'memory')
    .setCells('reg', reg(memory));
}

export function createSocNode(): FdtNode {
  return new FdtNode('soc')
    .setU32('#address-cells', 2)
    .setU32('#size-cells', 2)
    .setString('compatible', 'simple-bus')
    .setEmpty('ranges');
}

/** interrupts-extended lists, per hart, its machine software and machine timer interrupts. */
export function createClintNode(region: Region, intcPhandles: readonly number[]): FdtNode {
  return new FdtNode(`clint@${unitAddress(region.base)}`)
    .setStrings('compatible', ['sifive,clint0', 'riscv,clint0'])
    .setCells('reg', reg(region))
    .setCells('interrupts-extended', intcPhandles.flatMap((p) => [p, IRQ_M_SOFT, p, IRQ_M_TIMER]));
}

/**
 * The PLIC (sifive,plic-1.0.0 binding): per hart, context 2h takes machine external
 * interrupts (mip bit 11) and 2h+1 supervisor external interrupts (bit 9).
 */
export function createPlicNode(plic: Region & { sources: number }, phandle: number, intcPhandles: readonly number[]): FdtNode {
  return new FdtNode(`plic@${unitAddress(plic.base)}`)
    .setU32('phandle', phandle)
    .setStrings('compatible', ['sifive,plic-1.0.0', 'riscv,plic0'])
    .setCells('reg', reg(plic))
    .setU32('#address-cells', 0)
    .setU32('#interrupt-cells', 1)
    .setEmpty('interrupt-controller')
    .setU32('riscv,ndev', plic.sources)
    .setCells('interrupts-extended', intcPhandles.flatMap((p) => [p, IRQ_M_EXTERNAL, p, IRQ_S_EXTERNAL]));
}

export function createRtcNode(region: Region): FdtNode {
  return new FdtNode(`rtc@${unitAddress(region.base)}`)
    .setString('compatible', 'google,goldfish-rtc')
    .setCells('reg', reg(region));
}

/** Linux maps the whole window and reads the 16-byte ID at its start. */
export function createVmGenIdNode(region: Region): FdtNode {
  return new FdtNode(`rng@${unitAddress(region.base)}`)
    .setString('compatible', 'microsoft,vmgenid')
    .setCells('reg', reg(region));
}

export function createVirtioMmioNode(region: Region): FdtNode {
  return new FdtNode(`virtio_mmio@${unitAddress(region.base)}`)
    .setString('compatible', 'virtio,mmio')
    .setCells('reg', reg(region));
}

/** Without a PLIC there is no interrupts property and the guest's driver polls. */
export function createUartNode(region: Region, clockFrequency: number): FdtNode {
  return new FdtNode(`serial@${unitAddress(region.base)}`)
    .setString('compatible', 'ns16550a')
    .setCells('reg', reg(region))
    .setU32('clock-frequency', clockFrequency);
}

export function createTestFinisherNode(region: Region, phandle: number): FdtNode {
  return new FdtNode(`test@${unitAddress(region.base)}`)
    .setStrings('compatible', ['sifive,test1', 'sifive,test0', 'syscon'])
    .setCells('reg', reg(region))
    .setU32('phandle', phandle);
}

/** Poweroff writes the finisher's pass value through the syscon regmap. */
export function createPoweroffNode(testPhandle: number): FdtNode {
  return new FdtNode('poweroff')
    .setString('compatible', 'syscon-poweroff')
    .setU32('regmap', testPhandle)
    .setU32('offset', 0)
    .setU32('value', FinisherStatus.PASS);
}

export function createRebootNode(testPhandle: number): FdtNode {
  return new FdtNode('reboot')
    .setString('compatible', 'syscon-reboot')
    .setU32('regmap', testPhandle)
    .setU32('offset', 0)
    .setU32('value', FinisherStatus.RESET);
}

export function createChosenNode(
  stdoutPath: string | undefined,
  bootargs: string | undefined,
  initrd?: { start: number; end: number },
): FdtNode {
  const chosen = new FdtNode('chosen');
  if (stdoutPath !== undefined) chosen.setString('stdout-path', stdoutPath);
  if (bootargs !== undefined && bootargs !== '') chosen.setString('bootargs', bootargs);
  // Linux's devicetree usage: the ramdisk's physical range, as 64-bit values.
  if (initrd !== undefined) {
    chosen.setCells('linux,initrd-start', cells64(initrd.start));
    chosen.setCells('linux,initrd-end', cells64(initrd.end));
  }
  return chosen;
}
