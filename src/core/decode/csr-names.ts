// Names of the CSRs the disassembler shows symbolically; others print as hex numbers.
// Addresses: Privileged ISA 20211203, section 2.2 (CSR listing); stimecmp from Sstc.

const NAMED: ReadonlyArray<readonly [number, string]> = [
  [0x001, 'fflags'], [0x002, 'frm'], [0x003, 'fcsr'],
  [0xc00, 'cycle'], [0xc01, 'time'], [0xc02, 'instret'],
  [0x100, 'sstatus'], [0x104, 'sie'], [0x105, 'stvec'], [0x106, 'scounteren'],
  [0x10a, 'senvcfg'], [0x140, 'sscratch'], [0x141, 'sepc'], [0x142, 'scause'],
  [0x143, 'stval'], [0x144, 'sip'], [0x14d, 'stimecmp'], [0x180, 'satp'],
  [0x300, 'mstatus'], [0x301, 'misa'], [0x302, 'medeleg'], [0x303, 'mideleg'],
  [0x304, 'mie'], [0x305, 'mtvec'], [0x306, 'mcounteren'], [0x30a, 'menvcfg'],
  [0x320, 'mcountinhibit'], [0x340, 'mscratch'], [0x341, 'mepc'], [0x342, 'mcause'],
  [0x343, 'mtval'], [0x344, 'mip'],
  [0xb00, 'mcycle'], [0xb02, 'minstret'],
  [0xf11, 'mvendorid'], [0xf12, 'marchid'], [0xf13, 'mimpid'], [0xf14, 'mhartid'],
];

const NAMES = new Map<number, string>(NAMED);
for (let i = 0; i < 16; i++) NAMES.set(0x3a0 + i, `pmpcfg${i}`);
for (let i = 0; i < 64; i++) NAMES.set(0x3b0 + i, `pmpaddr${i}`);

/** The CSR's name, or undefined when the table does not list it. */
export function csrName(csr: number): string | undefined {
  return NAMES.get(csr);
}
