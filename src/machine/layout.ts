// The board's physical memory map. It matches the addresses stock firmware and Linux expect on
// a RISC-V "virt" board, so images built for such boards find their devices where they look.
//
//   0x0000_0000 +--------------------------+
//               |  (unmapped)              |
//   0x0010_0000 +--------------------------+
//               |  test finisher    4 KiB  |  sifive,test0: poweroff / reboot
//   0x0010_1000 +--------------------------+
//               |  (goldfish RTC    4 KiB) |  later
//   0x0010_2000 +--------------------------+
//               |  (unmapped)              |
//   0x0200_0000 +--------------------------+
//               |  CLINT           64 KiB  |  msip, mtimecmp, mtime
//   0x0201_0000 +--------------------------+
//               |  (unmapped)              |
//   0x0c00_0000 +--------------------------+
//               |  (PLIC            6 MiB) |  later
//   0x0c60_0000 +--------------------------+
//               |  (unmapped)              |
//   0x1000_0000 +--------------------------+
//               |  UART0 16550A   256 B    |
//   0x1000_0100 +--------------------------+
//               |  (unmapped)              |
//   0x1000_1000 +--------------------------+
//               |  (virtio-mmio 8 x 4 KiB) |  later
//   0x1000_9000 +--------------------------+
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
/** Where RAM starts; its size comes from the machine's configuration. */
export const RAM_BASE = 0x8000_0000;
/** The UART's input clock, as on the virt board (the 1.8432 MHz crystal times two). */
export const UART0_CLOCK_HZ = 3_686_400;
