// The SiFive test device ("sifive,test0"): a register the guest writes to power off with a
// pass or fail status, or to reset the board. Linux reaches it through syscon-poweroff and
// syscon-reboot; OpenSBI and bare-metal tests write it directly.

import type { AccessSize, MmioDevice } from './mmio-device.js';

/** Low 16 bits of the status word; a fail status carries its exit code in the high 16 bits. */
export const enum FinisherStatus {
  FAIL = 0x3333,
  PASS = 0x5555,
  RESET = 0x7777,
}

export type FinisherEvent = { kind: 'pass' } | { kind: 'fail'; code: number } | { kind: 'reset' };

export class TestFinisher implements MmioDevice {
  /** Size of the MMIO window. */
  static readonly WINDOW_SIZE = 0x1000;

  private readonly report: (event: FinisherEvent) => void;

  /** `report` is called during the guest's store; it usually asks the hart to stop. */
  constructor(report: (event: FinisherEvent) => void) {
    this.report = report;
  }

  /** The register reads as zero (syscon-reboot does a read-modify-write first). */
  read(_offset: number, _size: AccessSize): number {
    return 0;
  }

  write(offset: number, size: AccessSize, value: number): void {
    // The status register is the 32-bit word at offset 0; a 16-bit store carries the status alone.
    if (offset !== 0 || size === 1) return;
    const status = value & 0xffff;
    if (status === FinisherStatus.PASS) this.report({ kind: 'pass' });
    else if (status === FinisherStatus.FAIL) this.report({ kind: 'fail', code: size === 4 ? value >>> 16 : 0 });
    else if (status === FinisherStatus.RESET) this.report({ kind: 'reset' });
    // Any other value is ignored, as on the SiFive part.
  }
}
