import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Uart16550 } from './uart-16550.js';

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
  assert.throws(() => b.uart.restore({ ...state, version: 2 as 1 }), /version 2/);
});
