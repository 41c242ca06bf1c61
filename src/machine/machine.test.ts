import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Mip, StopReason, type HartOptions } from '../core/hart.js';
import { RamDiscard } from '../core/ram-discard.js';
import { readFdt } from './fdt/fdt-reader.js';
import { Machine, MachineError, type BoardHart, type MachineOptions } from './machine.js';

const MiB = 1 << 20;
const FINISHER = 0x100000;
const UART = 0x1000_0000;
const MTIMECMP = 0x200_4000;
const MTIME = 0x200_bff8;
/** `j .` as a flat binary. */
const LOOP = new Uint8Array([0x6f, 0x00, 0x00, 0x00]);

/** A stand-in hart whose behaviour is a script: lets the run loop be tested without the interpreter. */
class ScriptedHart implements BoardHart {
  pc = 0n;
  instret = 0;
  trapsTaken = 0;
  trace: ((line: string) => void) | null = null;
  readonly regs = new Map<number, bigint>();
  pending = 0;
  waiting = false;
  runs = 0;
  resets = 0;

  constructor(
    readonly options: HartOptions,
    private readonly script: (hart: ScriptedHart, budget: number) => StopReason,
  ) {}

  reset(pc: bigint): void {
    this.pc = pc;
    this.instret = 0;
    this.regs.clear();
    this.pending = 0;
    this.waiting = false;
    this.resets++;
  }
  setRegister(i: number, v: bigint): void {
    this.regs.set(i, v);
  }
  getRegister(i: number): bigint {
    return this.regs.get(i) ?? 0n;
  }
  isTierPaused = false;
  pauseTier(): void {
    this.isTierPaused = true;
  }
  resumeTier(): void {
    this.isTierPaused = false;
  }

  saveState(): Uint8Array {
    return new Uint8Array(0);
  }
  restoreState(): void {}
  run(budget: number): StopReason {
    this.runs++;
    return this.script(this, budget);
  }
  requestStop(): void {}
  setPending(bits: number): void {
    this.pending |= bits;
  }
  clearPending(bits: number): void {
    this.pending &= ~bits;
  }
  isWaitingForInterrupt(): boolean {
    return this.waiting;
  }
  timerDeadline(): number {
    return Infinity;
  }
  /** Retires `n` instructions. */
  retire(n: number): void {
    this.instret += n;
  }
  store(paddr: number, value: number): void {
    this.options.bus.write(paddr, 4, value);
  }
}

function scripted(script: (hart: ScriptedHart, budget: number) => StopReason, options: Partial<MachineOptions> = {}) {
  let hart: ScriptedHart | undefined;
  const serial: number[] = [];
  const machine = new Machine({
    kernel: LOOP,
    ramMiB: 1,
    serial: { write: (b) => serial.push(b) },
    ...options,
    createHart: (o) => (hart = new ScriptedHart(o, script)),
  });
  return { machine, hart: hart!, serial };
}

test('boots hart 0 at the entry with a0 = 0 and a1 = the device tree at the top of RAM', () => {
  const { machine, hart } = scripted(() => StopReason.Budget, { ramMiB: 2, bootargs: 'console=ttyS0' });
  const ramEnd = 0x8000_0000 + 2 * 1024 * 1024;
  assert.equal(hart.pc, 0x8000_0000n);
  assert.equal(hart.regs.get(10), 0n);
  assert.equal(hart.regs.get(11), BigInt(machine.fdtAddress));
  assert.equal(machine.fdtAddress % 8, 0);
  assert.ok(machine.fdtAddress + machine.fdt.length <= ramEnd && ramEnd - machine.fdtAddress - machine.fdt.length < 8);
  const { root } = readFdt(machine.memory.readRam(machine.fdtAddress, machine.fdt.length));
  assert.deepEqual(root.find('/memory@80000000')!.getCells('reg'), [0, 0x8000_0000, 0, 2 * 1024 * 1024]);
  assert.deepEqual(root.find('/chosen')!.getStrings('bootargs'), ['console=ttyS0']);
  assert.deepEqual(machine.bus.list().map((m) => m.name), ['test-finisher', 'rtc', 'vmgenid', 'clint', 'plic', 'uart0', 'virtio-mmio@10001000', 'virtio-mmio@10002000']);
  assert.deepEqual([...machine.memory.readRam(0x8000_0000, 4)], [...LOOP]);
});

test('finisher pass ends the run; UART bytes reach the serial sink', async () => {
  const { machine, serial } = scripted((h) => {
    for (const c of 'ok\n') h.options.bus.write(UART, 1, c.charCodeAt(0));
    h.retire(42);
    h.store(FINISHER, 0x5555);
    return StopReason.Stop;
  });
  const r = await machine.run();
  assert.equal(r.reason, 'pass');
  assert.equal(r.instructions, 42);
  assert.equal(Buffer.from(serial).toString(), 'ok\n');
});

test('finisher fail carries the guest code', async () => {
  const { machine } = scripted((h) => {
    h.store(FINISHER, (7 << 16) | 0x3333);
    return StopReason.Stop;
  });
  const r = await machine.run();
  assert.deepEqual([r.reason, r.code], ['fail', 7]);
});

test('instruction limit: slices are cut to land exactly on the limit', async () => {
  const budgets: number[] = [];
  const { machine } = scripted(
    (h, budget) => {
      budgets.push(budget);
      h.retire(budget);
      return StopReason.Budget;
    },
    { maxInstructions: 250_000, sliceInstructions: 100_000 },
  );
  const r = await machine.run();
  assert.equal(r.reason, 'instruction-limit');
  assert.equal(r.instructions, 250_000);
  assert.deepEqual(budgets, [100_000, 100_000, 50_000]);
});

test('wall-time limit ends a busy guest', async () => {
  const { machine } = scripted((h, budget) => {
    h.retire(budget);
    return StopReason.Budget;
  }, { timeoutMs: 30, sliceInstructions: 1000 });
  const r = await machine.run();
  assert.equal(r.reason, 'timeout');
  assert.ok(r.elapsedMs >= 30);
});

test('reset reloads the image and device tree and restarts the hart', async () => {
  let phase = 0;
  const { machine, hart } = scripted((h) => {
    if (phase++ === 0) {
      machine.memory.writeRam(0x8000_0000, new Uint8Array([1, 2, 3, 4]));
      machine.memory.writeRam(machine.fdtAddress, new Uint8Array(8));
      h.setRegister(11, 0n);
      h.store(FINISHER, 0x7777);
      return StopReason.Stop;
    }
    h.store(FINISHER, 0x5555);
    return StopReason.Stop;
  });
  const r = await machine.run();
  assert.deepEqual([r.reason, r.resets], ['pass', 1]);
  assert.equal(hart.resets, 2, 'once at power-on, once for the guest reset');
  assert.deepEqual([...machine.memory.readRam(0x8000_0000, 4)], [...LOOP]);
  assert.equal(hart.regs.get(11), BigInt(machine.fdtAddress));
  assert.doesNotThrow(() => readFdt(machine.memory.readRam(machine.fdtAddress, machine.fdt.length)));
});

/** A script that resets the board once after clobbering the image, then passes. */
function resetOnce(machine: () => Machine): (h: ScriptedHart) => StopReason {
  let phase = 0;
  return (h) => {
    if (phase++ === 0) {
      machine().memory.writeRam(0x8000_0000, new Uint8Array([1, 2, 3, 4]));
      h.store(FINISHER, 0x7777);
      return StopReason.Stop;
    }
    h.store(FINISHER, 0x5555);
    return StopReason.Stop;
  };
}

test('with reloadBootFiles the board keeps no copy of the images and reads them again at a reset', async () => {
  const reads: number[] = [];
  const AGAIN = new Uint8Array([0x6f, 0x00, 0x00, 0x00]);
  let machine: Machine | undefined;
  ({ machine } = scripted(resetOnce(() => machine!), { reloadBootFiles: () => { reads.push(1); return { kernel: AGAIN }; } }));
  assert.equal(machine.image.segments[0]!.data.length, 0, 'no bytes held');
  assert.deepEqual([...machine.memory.readRam(0x8000_0000, 4)], [...LOOP], 'loaded at power-on');
  const r = await machine.run();
  assert.deepEqual([r.reason, r.resets, reads.length], ['pass', 1, 1]);
  assert.deepEqual([...machine.memory.readRam(0x8000_0000, 4)], [...AGAIN]);
});

test('a reset whose files lay out differently fails with a clear error instead of booting them', async () => {
  let machine: Machine | undefined;
  ({ machine } = scripted(resetOnce(() => machine!), { reloadBootFiles: () => ({ kernel: new Uint8Array(8) }) }));
  await assert.rejects(machine.run(), (e: Error) => e instanceof MachineError && /lay out differently/.test(e.message));
});

test('WFI sleeps until the CLINT deadline instead of spinning, then MTIP wakes the hart', async () => {
  let armed = false;
  const { machine, hart } = scripted((h) => {
    if (!armed) {
      armed = true;
      const now = h.options.bus.read(MTIME, 4);
      h.store(MTIMECMP + 4, 0);
      h.store(MTIMECMP, now + 200_000); // 20 ms at 10 MHz
      h.waiting = true;
      return StopReason.WaitForInterrupt;
    }
    if (h.pending & Mip.MTIP) {
      h.store(FINISHER, 0x5555);
      return StopReason.Stop;
    }
    return StopReason.WaitForInterrupt;
  }, { timeoutMs: 5000 });
  const r = await machine.run();
  assert.equal(r.reason, 'pass');
  assert.ok(r.elapsedMs >= 19, `woke after ${r.elapsedMs} ms`);
  assert.ok(hart.runs <= 10, `the hart was polled ${hart.runs} times while asleep`);
});

test('the VM generation ID: in the device tree and on the bus; change() wakes a guest in WFI; a guest reset keeps it', async () => {
  const VMGENID = 0x10_2000;
  const PLIC = 0x0c00_0000;
  const SOURCE = 12;
  const readId = (h: ScriptedHart) => Buffer.from(Array.from({ length: 16 }, (_, i) => h.options.bus.read(VMGENID + i, 1))).toString('hex');
  const seen: string[] = [];
  let phase = 0;
  const { machine } = scripted((h) => {
    if (phase === 0) {
      phase = 1;
      seen.push(readId(h));
      // As Linux's PLIC driver requests the interrupt: priority 1, enabled for hart 0 in S-mode.
      h.store(PLIC + 4 * SOURCE, 1);
      h.store(PLIC + 0x2000 + 0x80, 1 << SOURCE);
      h.waiting = true;
      setTimeout(() => machine.generationId.change(), 20);
      return StopReason.WaitForInterrupt;
    }
    if (phase === 1) {
      if (!(h.pending & Mip.SEIP)) return StopReason.WaitForInterrupt;
      phase = 2;
      const claimed = h.options.bus.read(PLIC + 0x20_1004, 4);
      seen.push(readId(h));
      h.store(PLIC + 0x20_1004, claimed);
      assert.equal(claimed, SOURCE);
      assert.equal(h.pending & Mip.SEIP, 0, 'the interrupt ended once the ID was read and the claim completed');
      h.store(FINISHER, 0x7777);
      return StopReason.Stop;
    }
    seen.push(readId(h));
    h.store(FINISHER, 0x5555);
    return StopReason.Stop;
  }, { timeoutMs: 5000 });
  const node = readFdt(machine.fdt).root.find('/soc/rng@102000')!;
  assert.deepEqual(node.getStrings('compatible'), ['microsoft,vmgenid']);
  assert.deepEqual(node.getCells('interrupts'), [SOURCE]);
  const first = Buffer.from(machine.generationId.id).toString('hex');
  const r = await machine.run();
  assert.deepEqual([r.reason, r.resets], ['pass', 1]);
  assert.ok(r.elapsedMs < 900, `the change did not wake the sleeping guest (${r.elapsedMs} ms)`);
  const second = Buffer.from(machine.generationId.id).toString('hex');
  assert.notEqual(second, first);
  assert.deepEqual(seen, [first, second, second]);
});

test('WFI with no timer armed sleeps until the wall-time limit', async () => {
  const { machine, hart } = scripted((h) => {
    h.waiting = true;
    return StopReason.WaitForInterrupt;
  }, { timeoutMs: 60 });
  const r = await machine.run();
  assert.equal(r.reason, 'timeout');
  assert.ok(hart.runs <= 10, `polled ${hart.runs} times: the board spun instead of sleeping`);
});

test('input reaches the UART receiver and wakes a sleeping board', async () => {
  const got: number[] = [];
  const { machine } = scripted((h) => {
    while (h.options.bus.read(UART + 5, 1) & 1) got.push(h.options.bus.read(UART, 1));
    if (got.length === 20) {
      h.store(FINISHER, 0x5555);
      return StopReason.Stop;
    }
    h.waiting = true;
    return StopReason.WaitForInterrupt;
  }, { timeoutMs: 5000 });
  setTimeout(() => machine.sendInput(Buffer.from('abcdefghijklmnopqrst')), 20);
  const r = await machine.run();
  assert.equal(r.reason, 'pass');
  assert.ok(r.elapsedMs < 1000, 'input woke the board before its idle timeout');
  assert.equal(Buffer.from(got).toString(), 'abcdefghijklmnopqrst', 'more than one FIFO-full arrives intact');
});

test('requestStop ends the run with reason stopped', async () => {
  const { machine } = scripted((h) => {
    h.waiting = true;
    return StopReason.WaitForInterrupt;
  });
  setTimeout(() => machine.requestStop(), 10);
  const r = await machine.run();
  assert.equal(r.reason, 'stopped');
});

test('configuration errors are MachineErrors that say what to change', () => {
  const make = (o: Partial<MachineOptions>) => () => scripted(() => StopReason.Budget, o);
  assert.throws(make({ ramMiB: 0 }), (e: unknown) => e instanceof MachineError && /whole number of MiB/.test(e.message));
  assert.throws(make({ ramMiB: 1, kernel: new Uint8Array(1024 * 1024 - 16) }), /cannot hold the kernel .* raise -m/);
  assert.throws(make({ maxInstructions: 0 }), /instruction limit 0 is invalid/);
});

/** Assembly: arms the CLINT timer `ticks` ahead (10 MHz), enables its interrupt and waits in WFI for it. */
function armTimerThenWait(ticks: number): string {
  return `
      li t0, ${MTIME}
      ld t1, 0(t0)
      li t2, ${ticks}
      add t1, t1, t2
      li t0, ${MTIMECMP}
      sd t1, 0(t0)           # split by the hart: low word, then high word
      li t0, 0x80            # mie.MTIE
      csrw mie, t0
      csrsi mstatus, 8       # mstatus.MIE
    1: wfi
      j 1b`;
}

/** Builds an ELF from assembly with the cross compiler; fails loudly without it. */
function compile(source: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-machine-'));
  try {
    writeFileSync(join(dir, 'p.S'), source);
    const out = join(dir, 'p.elf');
    const r = spawnSync('riscv64-unknown-elf-gcc', ['-march=rv64gc', '-mabi=lp64d', '-nostdlib', '-static', '-Wl,-Ttext-segment=0x80000000', '-o', out, join(dir, 'p.S')], { encoding: 'utf8' });
    if (r.error) throw new Error(`cannot run riscv64-unknown-elf-gcc (${r.error.message}); install gcc-riscv64-unknown-elf`);
    assert.equal(r.status, 0, r.stderr);
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('on the real hart, a CLINT timer interrupt wakes WFI after the board slept', async () => {
  const kernel = compile(`
    .globl _start
    _start:
      la t0, trap
      csrw mtvec, t0
${armTimerThenWait(100000)}
    .align 2
    trap:
      csrr t0, mcause
      li t1, 0x8000000000000007
      li t2, ${FINISHER}
      bne t0, t1, fail
      li t1, 0x5555
      sw t1, 0(t2)
    fail:
      li t1, (2 << 16) | 0x3333
      sw t1, 0(t2)
      j fail
  `);
  const machine = new Machine({ kernel, ramMiB: 16, serial: { write() {} }, timeoutMs: 10_000 });
  const r = await machine.run();
  assert.equal(r.reason, 'pass', `guest reported ${r.reason} ${r.code}`);
  assert.ok(r.elapsedMs >= 9, `woke after ${r.elapsedMs} ms`);
  assert.ok(r.instructions < 100, `${r.instructions} instructions: the hart spun instead of sleeping`);
});

test('on the real hart, a trap loop that retires nothing still ends at the instruction limit', async () => {
  // All zeros: an illegal instruction at the entry, and mtvec = 0 sends every trap to address
  // 0, where the fetch faults again. Nothing ever retires.
  const machine = new Machine({ kernel: new Uint8Array(16), ramMiB: 1, serial: { write() {} }, maxInstructions: 50_000, timeoutMs: 20_000 });
  const r = await machine.run();
  assert.equal(r.reason, 'instruction-limit');
  assert.equal(r.instructions, 0);
  assert.equal(r.traps, 50_000);
});

test('on the real hart, a timer deadline that passes during a slice wakes WFI at once, not after the longest sleep', async () => {
  // 30 times: arm mtimecmp 10 us ahead, spin long enough that it passes before WFI (with no
  // device access in between), then wait. A lost deadline sleeps the 1 s cap each time.
  const kernel = compile(`
    .globl _start
    _start:
      la t0, trap
      csrw mtvec, t0
      li s0, 30
      li s1, ${MTIME}
      li s2, ${MTIMECMP}
      csrsi mstatus, 8       # mstatus.MIE
    again:
      ld t1, 0(s1)
      addi t1, t1, 100
      sd t1, 0(s2)
      li t0, 0x80
      csrw mie, t0
      li t2, 20000
    spin:
      addi t2, t2, -1
      bnez t2, spin
      wfi
      j again
    .align 2
    trap:
      li t1, -1
      sd t1, 0(s2)           # disarm
      addi s0, s0, -1
      beqz s0, done
      la t0, again
      csrw mepc, t0
      mret
    done:
      li t2, ${FINISHER}
      li t1, 0x5555
      sw t1, 0(t2)
    1: j 1b
  `);
  const machine = new Machine({ kernel, ramMiB: 16, serial: { write() {} }, timeoutMs: 20_000 });
  const r = await machine.run();
  assert.equal(r.reason, 'pass', `guest reported ${r.reason} ${r.code}`);
  assert.ok(r.elapsedMs < 5_000, `30 waits took ${r.elapsedMs.toFixed(0)} ms: deadlines were lost until the 1 s sleep cap`);
});

test('trimming the code caches of an idle board drops its translations and decoded pages, and the guest runs on', async () => {
  // A loop hot enough to be translated, spread over three pages, then a wait for a timer.
  const kernel = compile(`
    .globl _start
    _start:
      la t0, trap
      csrw mtvec, t0
      li s0, 20000
    hot:
      call far1
      addi s0, s0, -1
      bnez s0, hot
${armTimerThenWait(200000)}
    .balign 4096
    far1:
      addi s1, s1, 1
      j far2
    .balign 4096
    far2:
      addi s1, s1, 1
      ret
    .balign 4
    trap:
      li t1, 40000
      li t2, ${FINISHER}
      bne s1, t1, fail
      li t1, 0x5555
      sw t1, 0(t2)
    fail:
      li t1, (2 << 16) | 0x3333
      sw t1, 0(t2)
      j fail
  `);
  const machine = new Machine({ kernel, ramMiB: 16, serial: { write() {} }, timeoutMs: 10_000, hotThreshold: 16 });
  const run = machine.run();
  // Trimmed from a timer between slices, as an idle VM's is: in the loop or in WFI, the guest must run on.
  while (machine.memory.decodeCache.pageCount < 3) await new Promise((resolve) => setTimeout(resolve, 1));
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(machine.trimCodeCaches(), true);
  assert.equal(machine.memory.decodeCache.pageCount, 0);
  const r = await run;
  assert.equal(r.reason, 'pass', `guest reported ${r.reason} ${r.code}`);
  assert.ok(machine.memory.decodeCache.pageCount >= 1, 'the trap handler was decoded again');
});

test('an idle board sets its tier aside until three slices in a row use their whole budget', async () => {
  const stops = [StopReason.Budget, StopReason.Budget, StopReason.Stop, StopReason.Budget, StopReason.Budget, StopReason.Budget, StopReason.Budget];
  const paused: boolean[] = [];
  const { machine, hart } = scripted((h, budget) => {
    paused.push(h.isTierPaused);
    h.retire(budget);
    if (paused.length === stops.length) h.store(FINISHER, 0x5555);
    return stops[paused.length - 1]!;
  });
  machine.interpretWhileIdle();
  assert.equal(hart.isTierPaused, true);
  assert.equal((await machine.run()).reason, 'pass');
  // A slice that waits or stops starts the count again.
  assert.deepEqual(paused, [true, true, true, true, true, true, false]);
  machine.interpretWhileIdle();
  machine.resumeTier();
  assert.equal(hart.isTierPaused, false, 'resumeTier() ends the pause at once');

  const interpreted = scripted(() => StopReason.Budget, { translation: 'off' });
  interpreted.machine.interpretWhileIdle();
  assert.equal(interpreted.hart.isTierPaused, false, 'no tier to set aside');
});

test('on the real hart, hot code run while the tier is set aside is not translated; a busy guest gets the tier back', async () => {
  // A loop of 7 instructions per turn over two pages, then 200 ms in WFI (compilations finish) until a timer ends the run.
  const program = (turns: number) => compile(`
    .globl _start
    _start:
      la t0, trap
      csrw mtvec, t0
      li s0, ${turns}
    hot:
      call far
      addi s0, s0, -1
      bnez s0, hot
${armTimerThenWait(2_000_000)}
    .balign 4096
    far:
      addi s1, s1, 1
      j near
    near:
      addi s1, s1, 1
      ret
    .balign 4
    trap:
      li t2, ${FINISHER}
      li t1, 0x5555
      sw t1, 0(t2)
      j trap
  `);
  const blocksAfter = async (turns: number, idle: boolean) => {
    const machine = new Machine({ kernel: program(turns), ramMiB: 16, serial: { write() {} }, timeoutMs: 20_000, hotThreshold: 16 });
    if (idle) machine.interpretWhileIdle();
    const r = await machine.run();
    assert.equal(r.reason, 'pass');
    return machine.translationStats!.blocks;
  };
  // 140,000 instructions: two slices, then a wait.
  assert.ok((await blocksAfter(20_000, false)) > 0, 'translated when the tier is on');
  assert.equal(await blocksAfter(20_000, true), 0, 'set aside, nothing is translated');
  // 1.4 million: three whole slices in a row bring the tier back.
  assert.ok((await blocksAfter(200_000, true)) > 0, 'a busy guest is translated again');
});

test('zero-filled guest RAM goes back to the host with every byte as it was; not with several harts', () => {
  const discard = RamDiscard.load();
  const machine = new Machine({ kernel: LOOP, ramMiB: 8, serial: { write() {} } });
  const ram = machine.ram;
  const page = discard.pageSize;
  // A guest that zeroed RAM it does not use: 6 MiB touched, then zeroed, but for one byte every 64 pages.
  ram.fill(0x33, 1 << 20, 7 << 20);
  ram.fill(0, 1 << 20, 7 << 20);
  for (let at = 1 << 20; at < 7 << 20; at += 64 * page) ram[at + 100] = 9;
  const image = ram.slice(0, 1 << 20); // the program and whatever the board placed there
  const given = machine.giveBackZeroRam(discard);
  assert.ok(given >= 6 * MiB - (6 * MiB) / 64, `gave back ${given} bytes`);
  assert.ok(given < 8 * MiB);
  assert.deepEqual(ram.subarray(0, 1 << 20), image);
  for (let at = 1 << 20; at < 7 << 20; at += page) assert.equal(ram[at + 100], (at - (1 << 20)) % (64 * page) === 0 ? 9 : 0);
  assert.ok(ram.subarray(1 << 20, 7 << 20).every((v, i) => v === 0 || i % (64 * page) === 100));

  const smp = new Machine({ kernel: LOOP, ramMiB: 8, cpus: 2, serial: { write() {} } });
  smp.ram.fill(1, 1 << 20, 2 << 20);
  smp.ram.fill(0, 1 << 20, 2 << 20);
  assert.equal(smp.giveBackZeroRam(discard), 0, 'hart threads could store between a check and a release');
});
