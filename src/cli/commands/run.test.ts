// End to end: programs built with the cross compiler, run through the `vireo` executable.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const VIREO = join(ROOT, 'bin', 'vireo.js');
const LINK_SCRIPT = join(ROOT, 'examples', 'link.ld');

const work = mkdtempSync(join(tmpdir(), 'vireo-run-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
let programs = 0;

/** Builds an ELF with riscv64-unknown-elf-gcc and the examples' link script; fails loudly without the compiler. */
function build(source: string, file?: string): string {
  const src = file ?? join(work, `p${programs}.S`);
  if (file === undefined) writeFileSync(src, source);
  const out = join(work, `p${programs++}.elf`);
  const r = spawnSync('riscv64-unknown-elf-gcc', ['-march=rv64gc', '-mabi=lp64d', '-nostdlib', '-static', '-T', LINK_SCRIPT, '-o', out, src], { encoding: 'utf8' });
  if (r.error) throw new Error(`cannot run riscv64-unknown-elf-gcc (${r.error.message}); install gcc-riscv64-unknown-elf`);
  assert.equal(r.status, 0, r.stderr);
  return out;
}

function vireo(args: string[], input = '') {
  const r = spawnSync(process.execPath, [VIREO, 'run', '--bios', 'none', ...args], { input, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Assembly prologue: t0 = UART0, t6 = finisher; `report` writes a finisher value. */
const PRELUDE = `
  .section .text.start, "ax"
  .globl _start
  .equ FINISHER, 0x100000
  .equ UART0, 0x10000000
  .macro putc ch
    li t1, \\ch
    sb t1, 0(t0)
  .endm
  .macro report value
    li t1, \\value
    sw t1, 0(t6)
  .endm
_start:
  li t0, UART0
  li t6, FINISHER
`;

test('the README example prints its greeting and exits 0', () => {
  const elf = build('', join(ROOT, 'examples', 'hello.S'));
  const r = vireo(['--kernel', elf]);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, 'Hello from Vireo!\n');
  assert.equal(r.status, 0);
});

test('a failure code becomes the exit status, with a message on stderr', () => {
  const r = vireo(['--kernel', build(`${PRELUDE}\n putc 'x'\n report (3 << 16) | 0x3333\n1: j 1b\n`)]);
  assert.equal(r.stdout, 'x');
  assert.equal(r.status, 3);
  assert.equal(r.stderr, 'vireo: guest reported failure code 3\n');
});

test('a failure code that is 0 modulo 256 still exits non-zero', () => {
  const r = vireo(['--kernel', build(`${PRELUDE}\n li t1, (256 << 16) | 0x3333\n sw t1, 0(t6)\n1: j 1b\n`)]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /failure code 256/);
});

test('--max-instructions stops a program that never powers off: exit 124 naming the limit', () => {
  const r = vireo(['--kernel', build(`${PRELUDE}\n1: j 1b\n`), '--max-instructions', '1000']);
  assert.equal(r.status, 124);
  assert.match(r.stderr, /instruction limit reached \(--max-instructions 1000\) after 1000 instructions/);
});

test('--max-instructions also ends a trap loop that retires nothing', () => {
  // mtvec = 0: the illegal instruction traps to address 0, whose fetch faults again, forever.
  const r = vireo(['--kernel', build(`${PRELUDE}\n csrw mtvec, zero\n .word 0\n`), '--max-instructions', '5000', '--timeout', '30']);
  assert.equal(r.status, 124, r.stderr);
  assert.match(r.stderr, /instruction limit reached \(--max-instructions 5000\) after \d+ instructions and \d+ traps/);
});

test('bad boot files are refused at once and clearly, before any default image is built', () => {
  const fifo = join(work, 'kernel.fifo');
  execFileSync('mkfifo', [fifo]);
  // An empty cache: building the default guest would create files there.
  const cache = mkdtempSync(join(work, 'cache-'));
  const run = (args: string[]) => {
    const r = spawnSync(process.execPath, [VIREO, 'run', ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, VIREO_CACHE: cache } });
    if (r.error) throw r.error;
    return r;
  };
  const cases: Array<[string[], RegExp]> = [
    [['--bios', 'none', '--kernel', fifo], /cannot use .*kernel\.fifo as the kernel: it is a pipe \(FIFO\)/],
    [['--bios', 'none', '--kernel', '/dev/zero'], /cannot use \/dev\/zero as the kernel: it is a device/],
    [['--kernel', join(work, 'no-such-kernel')], /cannot read kernel file .*no-such-kernel: no such file/],
    [['--kernel', '/dev/zero', '--initrd', fifo], /cannot use \/dev\/zero as the kernel/],
    [['--bios', fifo, '--kernel', join(work, 'x')], /cannot read kernel file|cannot use .* as the firmware/],
    [['--kernel', build(`${PRELUDE}\n1: j 1b\n`), '--bios', 'none', '--disk', `${fifo},ro`], /cannot attach disk: .*it is a pipe \(FIFO\)/],
  ];
  for (const [args, message] of cases) {
    const r = run(args);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
  assert.deepEqual(readdirSync(cache), [], 'no guest image was built');
});

test('--timeout stops a program asleep in WFI: exit 124 naming the limit', () => {
  const started = Date.now();
  const r = vireo(['--kernel', build(`${PRELUDE}\n1: wfi\n j 1b\n`), '--timeout', '0.3']);
  assert.equal(r.status, 124);
  assert.match(r.stderr, /wall-time limit reached \(--timeout 0\.3 s\) after \d+ instructions/);
  assert.ok(Date.now() - started >= 300);
});

test('stdin reaches the guest through the UART receiver', () => {
  // Echo each received byte until a newline, then pass.
  const elf = build(`${PRELUDE}
  wait:
    lbu t2, 5(t0)
    andi t2, t2, 1
    beqz t2, wait
    lbu t3, 0(t0)
    sb t3, 0(t0)
    li t4, 10
    bne t3, t4, wait
    report 0x5555
  1: j 1b
  `);
  const r = vireo(['--kernel', elf, '--timeout', '20'], 'echo me please, more than sixteen bytes\n');
  assert.equal(r.stdout, 'echo me please, more than sixteen bytes\n');
  assert.equal(r.status, 0, r.stderr);
});

test('boot protocol: a0 = 0 and a1 points at a device tree whose /memory matches -m', () => {
  const elf = build(`${PRELUDE}
    bnez a0, bad
    lwu t2, 0(a1)                 # FDT magic, big-endian
    li t3, 0xedfe0dd0
    bne t2, t3, bad
    li t3, 0x80000000 + 64 * 1024 * 1024
    bgeu a1, t3, bad              # inside 64 MiB of RAM
    li t3, 0x80000000 + 60 * 1024 * 1024
    bltu a1, t3, bad              # near its top
    andi t2, a1, 7
    bnez t2, bad                  # 8-byte aligned
    report 0x5555
  bad:
    report (1 << 16) | 0x3333
  `);
  const r = vireo(['--kernel', elf, '-m', '64']);
  assert.equal(r.status, 0, r.stderr);
});

test('a guest reset reloads the image and restarts; RAM outside it survives', () => {
  // 0x80100000 is outside the image: a warm reset keeps it, so the second boot takes the other path.
  const elf = build(`${PRELUDE}
    li t2, 0x80100000
    lw t3, 0(t2)
    bnez t3, second
    li t3, 1
    sw t3, 0(t2)
    putc 'A'
    report 0x7777
  1: j 1b
  second:
    putc 'B'
    report 0x5555
  `);
  const r = vireo(['--kernel', elf, '--max-instructions', '10000']);
  assert.equal(r.stdout, 'AB');
  assert.equal(r.status, 0, r.stderr);
});

test('--trace writes one line per instruction to stderr and leaves stdout to the guest', () => {
  const r = vireo(['--kernel', build(`${PRELUDE}\n putc 'k'\n report 0x5555\n`), '--trace']);
  assert.equal(r.status, 0);
  assert.equal(r.stdout, 'k');
  const lines = r.stderr.trim().split('\n');
  // lui, lui (prelude); li, sb (putc); lui, addiw, sw (report)
  assert.equal(lines.length, 7, `expected one line per instruction, got:\n${r.stderr}`);
  assert.match(lines[0]!, /80000000/);
});
