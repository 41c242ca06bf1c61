// A 16550A UART (the "ns16550a" of the device tree), as Linux's 8250 driver, its earlycon and
// OpenSBI's uart8250 driver use it: byte-wide registers, reg-shift 0.
// Register behaviour follows the TI PC16550D datasheet; section numbers below refer to it.
// Baud-rate timing is not modelled: a byte written to THR reaches the sink at once while the
// sink is ready. While it is not (host output backed up), THRE and TEMT are clear, written
// bytes wait in the transmit FIFO, and bytes written to a full FIFO are lost and counted, so a
// guest that ignores LSR cannot make the host buffer its output.

import { sinkReady } from './mmio-device.js';
import type { AccessSize, ByteSink, IrqLine, MmioDevice } from './mmio-device.js';

/** Register offsets (reg-shift 0). With LCR.DLAB set, offsets 0 and 1 are DLL and DLM. */
export const enum UartRegister {
  RBR_THR_DLL = 0,
  IER_DLM = 1,
  IIR_FCR = 2,
  LCR = 3,
  MCR = 4,
  LSR = 5,
  MSR = 6,
  SCR = 7,
}

/** Interrupt enable bits (8.6.4). */
export const enum UartIer {
  ERBFI = 0x01,
  ETBEI = 0x02,
  ELSI = 0x04,
  EDSSI = 0x08,
}

/** IIR identification values (Table 4): bit 0 clear means "interrupt pending". */
export const enum UartIir {
  NONE = 0x01,
  LINE_STATUS = 0x06,
  RX_DATA = 0x04,
  CHAR_TIMEOUT = 0x0c,
  THR_EMPTY = 0x02,
  MODEM_STATUS = 0x00,
  FIFOS_ENABLED = 0xc0,
}

/** Line status bits (8.6.3). */
export const enum UartLsr {
  DR = 0x01,
  OE = 0x02,
  PE = 0x04,
  FE = 0x08,
  BI = 0x10,
  THRE = 0x20,
  TEMT = 0x40,
  RX_FIFO_ERROR = 0x80,
}

const LCR_DLAB = 0x80;
const MCR_DTR = 0x01;
const MCR_RTS = 0x02;
const MCR_OUT1 = 0x04;
const MCR_OUT2 = 0x08;
const MCR_LOOP = 0x10;
const MSR_DCTS = 0x01;
const MSR_DDSR = 0x02;
const MSR_TERI = 0x04;
const MSR_DDCD = 0x08;
const MSR_CTS = 0x10;
const MSR_DSR = 0x20;
const MSR_RI = 0x40;
const MSR_DCD = 0x80;
const LSR_ERRORS = UartLsr.OE | UartLsr.PE | UartLsr.FE | UartLsr.BI;
/** FCR bits 7:6 select the receive trigger level (8.6.5). */
const TRIGGER_LEVELS = [1, 4, 8, 14] as const;
/** The far end of the line is a connected terminal: CTS, DSR and DCD asserted, RI not. */
const HOST_MODEM_LINES = MSR_CTS | MSR_DSR | MSR_DCD;

export interface Uart16550Options {
  /** Receives the bytes the guest transmits (except in loopback mode); its readiness paces the guest. */
  sink: ByteSink;
  /** The UART's interrupt output (INTRPT), level-triggered. */
  irq: IrqLine;
}

/** Named, versioned register state for save/restore (version 1 had no `tx`). */
export interface Uart16550State {
  version: 2;
  ier: number;
  lcr: number;
  mcr: number;
  scr: number;
  dll: number;
  dlm: number;
  fifoEnabled: boolean;
  triggerLevel: number;
  lineErrors: number;
  msrDeltas: number;
  thrInterrupt: boolean;
  rx: number[];
  /** Bytes written to THR that the sink has not taken yet. */
  tx: number[];
}

export class Uart16550Error extends Error {
  readonly kind = 'uart-16550';
}

export class Uart16550 implements MmioDevice {
  /** Depth of the receive (and, conceptually, transmit) FIFO. */
  static readonly FIFO_DEPTH = 16;
  /** Size of the MMIO window; offsets 8 and up read as zero. */
  static readonly WINDOW_SIZE = 0x100;

  private readonly sink: ByteSink;
  private readonly irq: IrqLine;
  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  private scr = 0;
  private dll = 0;
  private dlm = 0;
  private fifoEnabled = false;
  private triggerLevel = 1;
  /** Latched OE/PE/FE/BI, cleared by reading LSR. */
  private lineErrors = 0;
  /** Latched MSR delta bits, cleared by reading MSR. */
  private msrDeltas = 0;
  /** The THRE interrupt source (8.6.2): set when THR becomes empty, cleared by an IIR read that reports it. */
  private thrInterrupt = false;
  private rx: number[] = [];
  /** The transmit FIFO (THR alone while FIFOs are disabled): bytes waiting for the sink. */
  private tx: number[] = [];
  /** THR was found not empty; its becoming empty sets the THRE interrupt source. */
  private stalled = false;
  private txDropped = 0;
  private irqLevel = false;

  constructor(options: Uart16550Options) {
    this.sink = options.sink;
    this.irq = options.irq;
    // Room in the sink empties THR, which raises THRE: Linux's 8250 driver in interrupt mode
    // sends nothing more until then.
    this.sink.onReady?.(() => {
      this.drainTransmit();
      this.updateIrq();
    });
  }

  /** Bytes the guest wrote to a full transmit FIFO, lost as on a real chip. */
  get transmitDropped(): number {
    return this.txDropped;
  }

  /** Master reset (the MR pin): registers to their datasheet reset values, FIFOs emptied, INTRPT low. */
  reset(): void {
    this.ier = 0;
    this.lcr = 0;
    this.mcr = 0;
    this.scr = 0;
    this.dll = 0;
    this.dlm = 0;
    this.fifoEnabled = false;
    this.triggerLevel = 1;
    this.lineErrors = 0;
    this.msrDeltas = 0;
    this.thrInterrupt = false;
    this.rx = [];
    this.tx = [];
    this.stalled = false;
    this.irqLevel = false;
    this.irq.set(false);
  }

  /**
   * Bytes arriving on the serial line. Takes as many as the receive FIFO has room for and
   * returns that count; the caller keeps the rest and offers them again later (host-side flow
   * control, so nothing typed is lost). Nothing is taken in loopback mode, where the line is
   * disconnected (8.6.6).
   */
  receive(bytes: ArrayLike<number>): number {
    if (this.mcr & MCR_LOOP) return 0;
    const room = this.capacity() - this.rx.length;
    const taken = Math.min(room, bytes.length);
    for (let i = 0; i < taken; i++) this.rx.push(bytes[i]! & 0xff);
    if (taken > 0) this.updateIrq();
    return taken;
  }

  /** Free space in the receive FIFO (1 byte deep while FIFOs are disabled). */
  receiveRoom(): number {
    return (this.mcr & MCR_LOOP) ? 0 : this.capacity() - this.rx.length;
  }

  read(offset: number, _size: AccessSize): number {
    switch (offset) {
      case UartRegister.RBR_THR_DLL:
        if (this.lcr & LCR_DLAB) return this.dll;
        return this.readRbr();
      case UartRegister.IER_DLM:
        return this.lcr & LCR_DLAB ? this.dlm : this.ier;
      case UartRegister.IIR_FCR:
        return this.readIir();
      case UartRegister.LCR:
        return this.lcr;
      case UartRegister.MCR:
        return this.mcr;
      case UartRegister.LSR:
        return this.readLsr();
      case UartRegister.MSR:
        return this.readMsr();
      case UartRegister.SCR:
        return this.scr;
      default:
        return 0;
    }
  }

  write(offset: number, _size: AccessSize, value: number): void {
    const byte = value & 0xff;
    switch (offset) {
      case UartRegister.RBR_THR_DLL:
        if (this.lcr & LCR_DLAB) this.dll = byte;
        else this.transmit(byte);
        return;
      case UartRegister.IER_DLM:
        if (this.lcr & LCR_DLAB) this.dlm = byte;
        else this.writeIer(byte);
        return;
      case UartRegister.IIR_FCR:
        this.writeFcr(byte);
        return;
      case UartRegister.LCR:
        this.lcr = byte;
        return;
      case UartRegister.MCR:
        this.writeMcr(byte & 0x1f);
        return;
      case UartRegister.SCR:
        this.scr = byte;
        return;
      default:
        // LSR and MSR are read-only here (writing them is a factory-test feature, 8.6.3).
        return;
    }
  }

  save(): Uart16550State {
    return {
      version: 2,
      ier: this.ier,
      lcr: this.lcr,
      mcr: this.mcr,
      scr: this.scr,
      dll: this.dll,
      dlm: this.dlm,
      fifoEnabled: this.fifoEnabled,
      triggerLevel: this.triggerLevel,
      lineErrors: this.lineErrors,
      msrDeltas: this.msrDeltas,
      thrInterrupt: this.thrInterrupt,
      rx: [...this.rx],
      tx: [...this.tx],
    };
  }

  restore(state: Uart16550State | (Omit<Uart16550State, 'version' | 'tx'> & { version: 1 })): void {
    if (state.version !== 1 && state.version !== 2) {
      throw new Uart16550Error(`cannot restore UART state version ${String((state as { version: unknown }).version)}; this build reads versions 1 and 2`);
    }
    const tx = state.version === 2 ? state.tx : [];
    if (!TRIGGER_LEVELS.includes(state.triggerLevel as 1) || state.rx.length > Uart16550.FIFO_DEPTH || !Array.isArray(tx) || tx.length > Uart16550.FIFO_DEPTH) {
      throw new Uart16550Error('cannot restore UART state: trigger level, receive or transmit FIFO out of range (corrupt snapshot?)');
    }
    this.ier = state.ier & 0x0f;
    this.lcr = state.lcr & 0xff;
    this.mcr = state.mcr & 0x1f;
    this.scr = state.scr & 0xff;
    this.dll = state.dll & 0xff;
    this.dlm = state.dlm & 0xff;
    this.fifoEnabled = state.fifoEnabled;
    this.triggerLevel = state.triggerLevel;
    this.lineErrors = state.lineErrors & LSR_ERRORS;
    this.msrDeltas = state.msrDeltas & 0x0f;
    this.thrInterrupt = state.thrInterrupt;
    this.rx = state.rx.map((b) => b & 0xff);
    this.tx = tx.map((b) => b & 0xff);
    this.stalled = this.tx.length > 0;
    this.drainTransmit();
    this.updateIrq();
  }

  private capacity(): number {
    return this.fifoEnabled ? Uart16550.FIFO_DEPTH : 1;
  }

  private transmit(byte: number): void {
    if (this.mcr & MCR_LOOP) {
      // 8.6.6: in loopback the transmitter output feeds the receiver; nothing leaves the chip.
      if (this.rx.length < this.capacity()) this.rx.push(byte);
      else this.lineErrors |= UartLsr.OE;
      // Writing THR clears the THRE interrupt, but the byte leaves at once, so THR is empty
      // again and the interrupt is re-armed (8.6.2).
      this.thrInterrupt = true;
    } else {
      if (this.drainTransmit()) this.sink.write(byte);
      else if (this.tx.length < this.capacity()) this.tx.push(byte);
      else this.txDropped++;
      // As above, but THR is empty again only if the sink took everything (8.6.2).
      this.thrInterrupt = this.drainTransmit();
    }
    this.updateIrq();
  }

  /**
   * Moves waiting bytes to the sink while it takes them. Returns whether THR and the shift
   * register are empty (THRE and TEMT); THR becoming empty sets the THRE interrupt source (8.6.2).
   * The caller updates the IRQ line.
   */
  private drainTransmit(): boolean {
    while (this.tx.length > 0 && sinkReady(this.sink)) this.sink.write(this.tx.shift()!);
    // In loopback the transmitter feeds the receiver, whatever the sink's state (8.6.6).
    const empty = this.tx.length === 0 && ((this.mcr & MCR_LOOP) !== 0 || sinkReady(this.sink));
    if (!empty) {
      this.stalled = true;
    } else if (this.stalled) {
      this.stalled = false;
      this.thrInterrupt = true;
    }
    return empty;
  }

  private readRbr(): number {
    const byte = this.rx.length > 0 ? this.rx.shift()! : 0;
    this.updateIrq();
    return byte;
  }

  private writeIer(byte: number): void {
    const before = this.ier;
    this.ier = byte & 0x0f;
    // Enabling ETBEI while THR is empty raises the THRE interrupt at once; Linux's 8250
    // driver depends on this (it tests for UARTs that fail to re-assert THRE). While the sink
    // is backed up, THR is not empty and the interrupt comes when it empties.
    if (!(before & UartIer.ETBEI) && this.ier & UartIer.ETBEI && this.drainTransmit()) this.thrInterrupt = true;
    this.updateIrq();
  }

  private writeFcr(byte: number): void {
    const enable = (byte & 0x01) !== 0;
    if (enable !== this.fifoEnabled) {
      // Changing FCR0 resets both FIFOs (8.6.5).
      this.rx = [];
      this.tx = [];
      this.fifoEnabled = enable;
    }
    if (enable) {
      if (byte & 0x02) this.rx = [];
      if (byte & 0x04) this.tx = [];
      this.triggerLevel = TRIGGER_LEVELS[byte >> 6]!;
    } else {
      this.triggerLevel = 1;
    }
    this.drainTransmit();
    this.updateIrq();
  }

  private writeMcr(byte: number): void {
    const before = this.modemLines();
    this.mcr = byte;
    const after = this.modemLines();
    const changed = before ^ after;
    if (changed & MSR_CTS) this.msrDeltas |= MSR_DCTS;
    if (changed & MSR_DSR) this.msrDeltas |= MSR_DDSR;
    if (changed & MSR_DCD) this.msrDeltas |= MSR_DDCD;
    // TERI: RI went from asserted to not asserted.
    if (before & MSR_RI && !(after & MSR_RI)) this.msrDeltas |= MSR_TERI;
    this.drainTransmit();
    this.updateIrq();
  }

  private readIir(): number {
    this.drainTransmit();
    const id = this.pendingInterrupt();
    // Reading IIR while it reports THRE clears that source (Table 4).
    if (id === UartIir.THR_EMPTY) this.thrInterrupt = false;
    this.updateIrq();
    return id | (this.fifoEnabled ? UartIir.FIFOS_ENABLED : 0);
  }

  private readLsr(): number {
    const thrInterrupt = this.thrInterrupt;
    let lsr = this.lineErrors;
    if (this.drainTransmit()) lsr |= UartLsr.THRE | UartLsr.TEMT;
    if (this.rx.length > 0) lsr |= UartLsr.DR;
    if (this.fifoEnabled && this.lineErrors & (UartLsr.PE | UartLsr.FE | UartLsr.BI)) lsr |= UartLsr.RX_FIFO_ERROR;
    if (this.lineErrors || this.thrInterrupt !== thrInterrupt) {
      this.lineErrors = 0;
      this.updateIrq();
    }
    return lsr;
  }

  private readMsr(): number {
    const msr = this.modemLines() | this.msrDeltas;
    if (this.msrDeltas) {
      this.msrDeltas = 0;
      this.updateIrq();
    }
    return msr;
  }

  /** MSR bits 7:4. In loopback they follow MCR: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD (8.6.6). */
  private modemLines(): number {
    if (!(this.mcr & MCR_LOOP)) return HOST_MODEM_LINES;
    let lines = 0;
    if (this.mcr & MCR_RTS) lines |= MSR_CTS;
    if (this.mcr & MCR_DTR) lines |= MSR_DSR;
    if (this.mcr & MCR_OUT1) lines |= MSR_RI;
    if (this.mcr & MCR_OUT2) lines |= MSR_DCD;
    return lines;
  }

  /** The highest-priority enabled source, as IIR bits 3:0 (Table 4). */
  private pendingInterrupt(): number {
    const ier = this.ier;
    if (ier & UartIer.ELSI && this.lineErrors) return UartIir.LINE_STATUS;
    if (ier & UartIer.ERBFI && this.rx.length > 0) {
      // Below the trigger level the chip reports a character timeout after four character
      // times of silence; with no line timing that silence is immediate.
      return this.rx.length >= this.triggerLevel ? UartIir.RX_DATA : UartIir.CHAR_TIMEOUT;
    }
    if (ier & UartIer.ETBEI && this.thrInterrupt) return UartIir.THR_EMPTY;
    if (ier & UartIer.EDSSI && this.msrDeltas) return UartIir.MODEM_STATUS;
    return UartIir.NONE;
  }

  private updateIrq(): void {
    const level = this.pendingInterrupt() !== UartIir.NONE;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.set(level);
    }
  }
}
