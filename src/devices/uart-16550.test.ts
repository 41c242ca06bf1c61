import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Uart16550 } from './uart-16550.js';
import type { ByteSink } from './mmio-device.js';

const RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;

function makeUart() {
  const out: number[] = [];
  const levels: boolean[] = [];
  const uart = new Uart16550({ sink: { write: (b) => out.push(b) }, irq: { set: (l) => levels.push(l) } });
  const r = (offset: number) => uart.read(offset, 1);
  const w = (offset: number, value: number) => uart.write(offset, 1, value);
  const irq = () => levels.at(-1) ?? false;
  return { uart, out, levels, r, w, irq };
}

test('reset values: LSR has THRE|TEMT, IIR reports no interrupt, MSR shows a connected line', () => {
  const { r } = makeUart();
  assert.equal(r(LSR), 0x60);
  assert.equal(r(IIR), 0x01);
  assert.equal(r(IER), 0);
  assert.equal(r(LCR), 0);
  assert.equal(r(MCR), 0);
  assert.equal(r(MSR) & 0xf0, 0xb0);
});

test('THR writes reach the sink in order and LSR stays ready', () => {
  const { out, r, w } = makeUart();
  for (const c of 'hi\n') w(THR, c.charCodeAt(0));
  assert.deepEqual(out, [0x68, 0x69, 0x0a]);
  assert.equal(r(LSR) & 0x60, 0x60);
});

test('DLAB switches offsets 0 and 1 to the divisor latch without transmitting', () => {
  const { out, r, w } = makeUart();
  w(LCR, 0x83);
  w(DLL, 0x01);
  w(DLM, 0x02);
  assert.equal(r(DLL), 0x01);
  assert.equal(r(DLM), 0x02);
  assert.deepEqual(out, []);
  w(LCR, 0x03);
  assert.equal(r(IER), 0, 'IER untouched by DLM write');
  w(LCR, 0x83);
  assert.equal(r(DLL), 0x01, 'latch kept across LCR changes');
});

test('scratch register holds a value', () => {
  const { r, w } = makeUart();
  w(SCR, 0xa5);
  assert.equal(r(SCR), 0xa5);
});

test('receive data: DR, RBR order, empty FIFO reads clear DR', () => {
  const { uart, r } = makeUart();
  assert.equal(uart.receive([0x41]), 1);
  assert.equal(r(LSR) & 0x01, 0x01);
  assert.equal(r(RBR), 0x41);
  assert.equal(r(LSR) & 0x01, 0);
});

test('FIFOs disabled hold one byte; enabled hold 16 and receive() reports what it took', () => {
  const { uart, w, r } = makeUart();
  assert.equal(uart.receive([1, 2, 3]), 1);
  w(FCR, 0x01);
  assert.equal(r(LSR) & 0x01, 0, 'enabling the FIFO clears it');
  const bytes = Array.from({ length: 20 }, (_, i) => i);
  assert.equal(uart.receive(bytes), 16);
  assert.equal(uart.receiveRoom(), 0);
  const got: number[] = [];
  while (r(LSR) & 0x01) got.push(r(RBR));
  assert.deepEqual(got, bytes.slice(0, 16));
});

test('IIR shows FIFO-enabled bits and FCR bit 1 clears the receive FIFO', () => {
  const { uart, r, w } = makeUart();
  w(FCR, 0x07);
  assert.equal(r(IIR), 0xc1);
  uart.receive([1, 2, 3]);
  w(FCR, 0x03);
  assert.equal(r(LSR) & 0x01, 0);
});

test('receive interrupt: trigger level gives RX_DATA, below it a character timeout', () => {
  const { uart, r, w, irq } = makeUart();
  w(FCR, 0x81); // FIFO on, trigger 8
  w(IER, 0x01);
  assert.equal(irq(), false);
  uart.receive([1, 2, 3]);
  assert.equal(irq(), true);
  assert.equal(r(IIR), 0xcc);
  uart.receive([4, 5, 6, 7, 8]);
  assert.equal(r(IIR), 0xc4);
  for (let i = 0; i < 8; i++) r(RBR);
  assert.equal(r(IIR), 0xc1);
  assert.equal(irq(), false);
});

test('THRE interrupt: raised when ETBEI is enabled, cleared by reading IIR, re-armed by a THR write', () => {
  const { r, w, irq } = makeUart();
  w(IER, 0x02);
  assert.equal(irq(), true);
  assert.equal(r(IIR), 0x02);
  assert.equal(irq(), false);
  assert.equal(r(IIR), 0x01, 'cleared by the read that reported it');
  w(THR, 0x41);
  assert.equal(irq(), true);
  assert.equal(r(IIR), 0x02);
});

test('THRE re-asserts when ETBEI is toggled (the check Linux runs for UART_BUG_THRE)', () => {
  const { r, w } = makeUart();
  w(IER, 0x02);
  r(IIR);
  w(IER, 0);
  w(IER, 0x02);
  assert.equal(r(IIR) & 0x01, 0, 'interrupt pending again');
});

test('IIR priority: line status > receive data > THRE > modem status', () => {
  const { uart, r, w } = makeUart();
  w(FCR, 0x01);
  w(MCR, 0x10); // loopback, so a 17th byte overruns and modem lines can change
  w(IER, 0x0f);
  w(MCR, 0x12); // RTS -> CTS changes: modem status delta
  for (let i = 0; i < 17; i++) w(THR, i);
  assert.equal(r(IIR) & 0x0f, 0x06, 'overrun reported first');
  assert.equal(r(LSR) & 0x02, 0x02);
  assert.equal(r(LSR) & 0x02, 0, 'LSR read clears OE');
  assert.equal(r(IIR) & 0x0f, 0x04);
  for (let i = 0; i < 16; i++) assert.equal(r(RBR), i);
  assert.equal(r(IIR) & 0x0f, 0x02);
  assert.equal(r(IIR) & 0x0f, 0x00, 'modem status last');
  assert.equal(r(MSR) & 0x01, 0x01, 'DCTS');
  assert.equal(r(IIR) & 0x0f, 0x01);
  assert.equal(uart.receive([1]), 0, 'line disconnected in loopback');
});

test('loopback: MSR mirrors MCR the way Linux autoconfig checks (LOOP|OUT2|RTS -> DCD|CTS)', () => {
  const { out, r, w } = makeUart();
  w(MCR, 0x1a);
  assert.equal(r(MSR) & 0xf0, 0x90);
  w(MCR, 0x15); // DTR, OUT1
  assert.equal(r(MSR) & 0xf0, 0x60);
  w(THR, 0x55);
  assert.deepEqual(out, [], 'loopback keeps bytes inside the chip');
  assert.equal(r(RBR), 0x55);
});

test('IRQ line only changes on edges and reset drives it low', () => {
  const { uart, levels, w } = makeUart();
  w(IER, 0x02);
  w(THR, 1);
  w(THR, 2);
  assert.deepEqual(levels, [true]);
  uart.reset();
  assert.deepEqual(levels, [true, false]);
});

test('wider accesses and offsets past the registers do not throw', () => {
  const { uart } = makeUart();
  assert.equal(uart.read(0x20, 4), 0);
  uart.write(0x20, 4, 0xffffffff);
  assert.equal(uart.read(5, 4), 0x60);
});

test('save/restore round-trips registers and FIFO contents', () => {
  const a = makeUart();
  a.w(FCR, 0x41);
  a.w(LCR, 0x03);
  a.w(IER, 0x01);
  a.w(SCR, 0x99);
  a.uart.receive([7, 8]);
  const state = a.uart.save();
  const b = makeUart();
  b.uart.restore(JSON.parse(JSON.stringify(state)));
  assert.equal(b.irq(), true);
  assert.equal(b.r(SCR), 0x99);
  assert.equal(b.r(IIR), 0xcc);
  assert.equal(b.r(RBR), 7);
  assert.equal(b.r(RBR), 8);
  assert.throws(() => b.uart.restore({ ...state, version: 3 as 2 }), /version 3/);
});

/** A sink whose readiness the test switches, like a console whose reader stalls and resumes. */
function makeSlowSink() {
  const out: number[] = [];
  const listeners = new Set<() => void>();
  let open = true;
  const sink: ByteSink = {
    write: (b) => {
      assert.ok(open, 'no device writes to a sink that is not ready');
      out.push(b);
    },
    ready: () => open,
    onReady: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  const setReady = (ready: boolean) => {
    open = ready;
    if (ready) for (const listener of listeners) listener();
  };
  return { sink, out, setReady };
}

function makeUartOn(sink: ByteSink) {
  const levels: boolean[] = [];
  const uart = new Uart16550({ sink, irq: { set: (l) => levels.push(l) } });
  const r = (offset: number) => uart.read(offset, 1);
  const w = (offset: number, value: number) => uart.write(offset, 1, value);
  const irq = () => levels.at(-1) ?? false;
  return { uart, r, w, irq };
}

test('LSR follows the sink: THRE and TEMT clear while it is backed up, set again once it takes bytes', () => {
  const slow = makeSlowSink();
  const { r, w } = makeUartOn(slow.sink);
  w(FCR, 0x01);
  slow.setReady(false);
  assert.equal(r(LSR) & 0x60, 0, 'a polling guest waits');
  w(THR, 0x61);
  w(THR, 0x62);
  assert.deepEqual(slow.out, [], 'held in the transmit FIFO');
  slow.setReady(true);
  assert.deepEqual(slow.out, [0x61, 0x62], 'the FIFO drains, in order, when room frees');
  assert.equal(r(LSR) & 0x60, 0x60);
});

test('THRE interrupt: none while the sink is backed up, raised again when it becomes ready', () => {
  const slow = makeSlowSink();
  const { r, w, irq } = makeUartOn(slow.sink);
  w(FCR, 0x01);
  w(IER, 0x02);
  assert.equal(r(IIR) & 0x0f, 0x02);
  slow.setReady(false);
  // Linux's 8250 driver writes up to a FIFO's worth per THRE interrupt without reading LSR.
  for (let i = 0; i < 16; i++) w(THR, i);
  assert.equal(irq(), false);
  assert.equal(r(IIR) & 0x0f, 0x01, 'no THRE while THR is not empty');
  slow.setReady(true);
  assert.equal(irq(), true, 'THRE re-raised when the sink has room');
  assert.equal(r(IIR) & 0x0f, 0x02);
  assert.deepEqual(slow.out, Array.from({ length: 16 }, (_, i) => i), 'a FIFO burst is not lost');
});

test('enabling ETBEI while the sink is backed up raises THRE only once it is ready', () => {
  const slow = makeSlowSink();
  const { r, w, irq } = makeUartOn(slow.sink);
  slow.setReady(false);
  w(IER, 0x02);
  assert.equal(irq(), false);
  slow.setReady(true);
  assert.equal(irq(), true);
  assert.equal(r(IIR) & 0x0f, 0x02);
});

test('writes to a full transmit FIFO are dropped and counted, never buffered', () => {
  const slow = makeSlowSink();
  const { uart, w } = makeUartOn(slow.sink);
  w(FCR, 0x01);
  slow.setReady(false);
  for (let i = 0; i < 100_000; i++) w(THR, i & 0xff);
  assert.equal(uart.transmitDropped, 100_000 - 16);
  assert.equal(uart.save().tx.length, 16);
  slow.setReady(true);
  assert.deepEqual(slow.out, Array.from({ length: 16 }, (_, i) => i), 'only the FIFO\'s bytes leave');
  // Without FIFOs only THR holds a byte.
  const other = makeSlowSink();
  const plain = makeUartOn(other.sink);
  other.setReady(false);
  for (let i = 0; i < 5; i++) plain.w(THR, 0x41 + i);
  assert.equal(plain.uart.transmitDropped, 4);
  other.setReady(true);
  assert.deepEqual(other.out, [0x41]);
});

test('FCR bit 2 clears bytes waiting for the sink; a reset does too', () => {
  const slow = makeSlowSink();
  const { uart, r, w } = makeUartOn(slow.sink);
  w(FCR, 0x01);
  slow.setReady(false);
  w(THR, 1);
  w(FCR, 0x05);
  w(THR, 2);
  uart.reset();
  slow.setReady(true);
  assert.deepEqual(slow.out, []);
  assert.equal(r(LSR) & 0x60, 0x60);
});

test('a snapshot keeps bytes waiting for the sink; version 1 snapshots restore with none', () => {
  const slow = makeSlowSink();
  const a = makeUartOn(slow.sink);
  a.w(FCR, 0x01);
  slow.setReady(false);
  a.w(THR, 0x7a);
  const state = a.uart.save();
  const target = makeSlowSink();
  target.setReady(false);
  const b = makeUartOn(target.sink);
  b.uart.restore(JSON.parse(JSON.stringify(state)));
  target.setReady(true);
  assert.deepEqual(target.out, [0x7a]);
  const { tx: _tx, ...v1 } = state;
  const c = makeUart();
  c.uart.restore({ ...v1, version: 1 });
  assert.equal(c.r(LSR) & 0x60, 0x60);
});
