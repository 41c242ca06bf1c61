import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from './guest-memory.js';
import { Hart } from './hart.js';
import { Csr, csrValue, readCsr, writeCsr } from './csr.js';
import { PRIV } from './hart-state.js';
import { Priv } from './privilege.js';
import { executeSystem } from './system-instructions.js';
import { Op } from './decode/instruction-table.js';

function hart(): Hart {
  const memory = new GuestMemory({ ramBase: 0x80000000, ramSize: 1 << 20, harts: 1 });
  return new Hart({ memory, hartId: 3, bus: { read: () => -1, write: () => false }, time: { now: () => 12345 } });
}

function read(h: Hart, csr: number): bigint {
  assert.equal(readCsr(h, csr), true, `csr 0x${csr.toString(16)} readable`);
  return BigInt.asUintN(64, (BigInt(csrValue.hi) << 32n) | BigInt(csrValue.lo >>> 0));
}

function write(h: Hart, csr: number, value: bigint): void {
  writeCsr(h, csr, Number(BigInt.asIntN(32, value)), Number(BigInt.asIntN(32, value >> 32n)));
}

test('identity CSRs: misa is RV64 ACDFIMSU, mhartid is the hart', () => {
  const h = hart();
  assert.equal(read(h, Csr.MISA), (2n << 62n) | 0x14112dn);
  assert.equal(read(h, Csr.MHARTID), 3n);
  assert.equal(read(h, Csr.TIME), 12345n);
});

test('satp keeps its value when written with an unsupported mode (Linux probes Sv57)', () => {
  const h = hart();
  const sv48 = (9n << 60n) | 0x80123n;
  write(h, Csr.SATP, sv48);
  assert.equal(read(h, Csr.SATP), sv48);
  write(h, Csr.SATP, (10n << 60n) | 0x80456n);
  assert.equal(read(h, Csr.SATP), sv48);
  write(h, Csr.SATP, 0n);
  assert.equal(read(h, Csr.SATP), 0n);
});

test('the trigger module reports no triggers', () => {
  const h = hart();
  write(h, Csr.TSELECT, 1n);
  assert.equal(read(h, Csr.TSELECT), 0n);
  assert.equal(read(h, Csr.TDATA1), 0n, 'type 0: no trigger');
  assert.equal(read(h, Csr.TINFO), 1n);
});

test('privilege bits of the CSR number gate access', () => {
  const h = hart();
  h.s[PRIV] = Priv.Supervisor;
  assert.equal(readCsr(h, Csr.MSTATUS), false);
  assert.equal(readCsr(h, Csr.SSTATUS), true);
  h.s[PRIV] = Priv.User;
  assert.equal(readCsr(h, Csr.SSTATUS), false);
  assert.equal(readCsr(h, Csr.FFLAGS), false, 'FS is off after reset');
});

test('mstatus: MPP ignores the reserved value 2; SD follows a dirty FS; UXL and SXL read 64-bit', () => {
  const h = hart();
  write(h, Csr.MSTATUS, 1n << 11n);
  write(h, Csr.MSTATUS, 2n << 11n);
  assert.equal((read(h, Csr.MSTATUS) >> 11n) & 3n, 1n);
  write(h, Csr.MSTATUS, 3n << 13n);
  const v = read(h, Csr.MSTATUS);
  assert.equal(v >> 63n, 1n);
  assert.equal((v >> 32n) & 0xfn, 0xan);
});

test('csrrs/csrrc on mip leave a device-driven SEIP out of the bits they write back', () => {
  const h = hart();
  h.s[PRIV] = Priv.Machine;
  h.setPending(1 << 9); // the PLIC raises SEIP
  h.setRegister(6, 2n); // SSIP
  const csrrs = (0x344 << 20) | (6 << 15) | (2 << 12) | (5 << 7) | 0x73;
  executeSystem(h, csrrs, Op.CSRRS, csrrs);
  assert.equal(h.getRegister(5) & (1n << 9n), 1n << 9n, 'the read shows the line');
  h.clearPending(1 << 9); // the PLIC lowers it
  assert.equal(read(h, Csr.MIP) & 0x202n, 2n, 'SSIP set by software, SEIP gone with the line');
  const csrrc = (0x344 << 20) | (6 << 15) | (3 << 12) | (0 << 7) | 0x73;
  h.setPending(1 << 9);
  executeSystem(h, csrrc, Op.CSRRC, csrrc);
  h.clearPending(1 << 9);
  assert.equal(read(h, Csr.MIP) & 0x202n, 0n);
});
