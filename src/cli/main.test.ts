import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const VIREO = fileURLToPath(new URL('../../../bin/vireo.js', import.meta.url));

function vireo(...args: string[]) {
  const r = spawnSync(process.execPath, [VIREO, ...args], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function usageError(args: string[], message: RegExp) {
  const r = vireo(...args);
  assert.equal(r.status, 2, `vireo ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  assert.match(r.stderr, message);
  assert.match(r.stderr, /Run 'vireo( run)? --help' for usage\./);
  assert.equal(r.stdout, '');
}

test('vireo --help and vireo run --help print usage and exit 0', () => {
  const top = vireo('--help');
  assert.equal(top.status, 0);
  assert.match(top.stdout, /^Usage: vireo <command>/);
  assert.match(top.stdout, /run +Boot the default Debian guest/);
  assert.match(top.stdout, /image +Build or verify the default Debian guest image/);
  const run = vireo('run', '--help');
  assert.equal(run.status, 0);
  for (const option of ['--bios FILE|none', '--initrd FILE', '--kernel FILE', '--disk FILE[,OPTIONS]', '--net host', '-m, --memory MIB', '--max-instructions N', '--timeout SECONDS', '--trace']) {
    assert.ok(run.stdout.includes(option), `run --help lacks ${option}`);
  }
  assert.equal(vireo('help', 'run').stdout, run.stdout);
});

test('missing or unknown commands are usage errors', () => {
  usageError([], /vireo: no command given/);
  usageError(['frobnicate'], /vireo: unknown command 'frobnicate'/);
  usageError(['toString'], /unknown command 'toString'/);
});

test('--bios none needs a kernel, and --initrd needs firmware', () => {
  usageError(['run', '--bios', 'none'], /vireo run: --bios none needs --kernel FILE/);
  usageError(['run', '--bios', 'none', '--kernel', 'x', '--disk', ''], /--disk takes FILE\[,ro\]\[,format=raw\|qcow2\]/);
  usageError(['run', '--bios', 'none', '--kernel', 'x', '--net', 'bridge'], /--net takes 'host'/);
  usageError(['run', '--bios', 'none', '--kernel', 'x', '--initrd', 'y'], /--initrd needs firmware to hand it to the kernel; give --bios FILE/);
});

test('unknown options, stray arguments and missing values are usage errors', () => {
  usageError(['run', '--bios', 'none', '--kernel', 'x', '--bogus'], /vireo run: unknown option --bogus/);
  usageError(['run', 'disk.img', 'extra'], /unexpected argument extra/);
  usageError(['run', '--bios', 'none', '--kernel', 'x', 'disk.img'], /--kernel does not apply with a disk image to boot/);
  usageError(['run', '--bios', 'none', '--kernel'], /option --kernel needs a value/);
  usageError(['run', '--bios', 'none', '--kernel', 'x', '--trace=yes'], /option --trace takes no value/);
  usageError(['run', '--bios', 'none', '--kernel', 'x', '-m', '-1'], /option -m needs a value \(for a value starting with '-', write --long-name=VALUE\)/);
});

test('bad values are usage errors naming the option and the value', () => {
  const base = ['run', '--bios', 'none', '--kernel', 'x'];
  for (const m of ['0', 'abc', '5000', '1.5', '=-1']) usageError(m.startsWith('=') ? [...base, `--memory${m}`] : [...base, '-m', m], /-m must be a RAM size from 1 to 4095 MiB/);
  for (const n of ['0', 'abc', '1.5', '1e6']) usageError([...base, '--max-instructions', n], new RegExp(`--max-instructions must be a positive whole number, got '${n.replace('.', '\\.')}'`));
  for (const s of ['0', 'soon', '1e3']) usageError([...base, '--timeout', s], /--timeout must be a positive number of seconds/);
});

test('a kernel that cannot be read or loaded exits 1 with the reason', () => {
  const missing = vireo('run', '--bios', 'none', '--kernel', '/nonexistent/kernel.elf');
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /vireo: cannot read kernel file \/nonexistent\/kernel.elf: no such file/);
  // The node binary running this test is an ELF for the host, not for RISC-V.
  const foreign = vireo('run', '--bios', 'none', '--kernel', process.execPath);
  assert.equal(foreign.status, 1);
  assert.match(foreign.stderr, /vireo: cannot load .*: the ELF file is for machine \d+ \(.*\), not RISC-V \(243\)/);
});
