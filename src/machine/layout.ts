// The board's physical memory map. It matches the addresses stock firmware and Linux expect on
// a RISC-V "virt" board, so images built for such boards find their devices where they look.
//
//   0x0000_0000 +--------------------------+
//               |  (unmapped)              |
//   0x0010_0000 +--------------------------+
//               |  test finisher    4 KiB  |  sifive,test0: poweroff / reboot
//   0x0010_1000 +--------------------------+
//               |  goldfish RTC     4 KiB  |  irq 11
//   0x0010_2000 +--------------------------+
//               |  VM generation ID 4 KiB  |  microsoft,vmgenid: irq 12
//   0x0010_3000 +--------------------------+
//               |  (unmapped)              |
//   0x0200_0000 +--------------------------+
//               |  CLINT           64 KiB  |  msip, mtimecmp, mtime
//   0x0201_0000 +--------------------------+
//               |  (unmapped)              |
//   0x0c00_0000 +--------------------------+
//               |  PLIC             6 MiB  |  sources 1-95; contexts 2h (M), 2h+1 (S)
//   0x0c60_0000 +--------------------------+
//               |  (unmapped)              |
//   0x1000_0000 +--------------------------+
//               |  UART0 16550A   256 B    |  irq 10
//   0x1000_0100 +--------------------------+
//               |  (unmapped)              |
//   0x1000_1000 +--------------------------+
//               |  virtio-mmio  9 x 4 KiB  |  irqs 1-9
//   0x1000_a000 +--------------------------+
//               |  (unmapped)              |
//   0x8000_0000 +--------------------------+
//               |  RAM (-m MiB)            |  kernel at the base, device tree at the top
//               +--------------------------+

/** A range of guest-physical addresses. */
export interface Region {
  readonly base: number;
  readonly size: number;
}

export const TEST_FINISHER: Region = { base: 0x0010_0000, size: 0x1000 };
export const CLINT: Region = { base: 0x0200_0000, size: 0x1_0000 };
export const UART0: Region = { base: 0x1000_0000, size: 0x100 };
export const RTC: Region = { base: 0x0010_1000, size: 0x1000 };
export const VMGENID: Region = { base: 0x0010_2000, size: 0x1000 };
export const PLIC: Region = { base: 0x0c00_0000, size: 0x60_0000 };
/** Interrupt sources of the PLIC: ids 1..PLIC_SOURCES (0 means none). */
export const PLIC_SOURCES = 95;
export const UART0_IRQ = 10;
export const RTC_IRQ = 11;
export const VMGENID_IRQ = 12;
/** virtio-mmio transports: slot i at VIRTIO_BASE + i * VIRTIO_STRIDE, PLIC source VIRTIO_IRQ + i. */
export const VIRTIO_BASE = 0x1000_1000;
export const VIRTIO_STRIDE = 0x1000;
export const VIRTIO_SLOTS = 9;
export const VIRTIO_IRQ = 1;

/** The region of virtio-mmio slot `i`. */
export function virtioSlot(i: number): Region {
  return { base: VIRTIO_BASE + i * VIRTIO_STRIDE, size: VIRTIO_STRIDE };
}
/** Where RAM starts; its size comes from the machine's configuration. */
export const RAM_BASE = 0x8000_0000;
/** The UART's input clock, as on the virt board (the 1.8432 MHz crystal times two). */
export const UART0_CLOCK_HZ = 3_686_400;
