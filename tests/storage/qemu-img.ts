// Runs QEMU's image tools (qemu-utils) for the qcow2 interoperability tests. A missing tool
// fails the test with what to install: interop is what these tests are for.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const QEMU_IMG = '/usr/bin/qemu-img';
export const QEMU_IO = '/usr/bin/qemu-io';

function run(tool: string, args: string[]): string {
  if (!existsSync(tool)) throw new Error(`${tool} is missing: install qemu-utils (apt-get install qemu-utils) to run the qcow2 interoperability tests`);
  const result = spawnSync(tool, args, { encoding: 'utf8' });
  if (result.error) throw new Error(`cannot run ${tool}: ${result.error.message}; install qemu-utils`);
  if (result.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed (status ${result.status}): ${result.stderr}${result.stdout}`);
  return result.stdout;
}

export function qemuImg(...args: string[]): string {
  return run(QEMU_IMG, args);
}

/** Runs qemu-io commands (e.g. 'write -P 0xab 0 64k') against an image. */
export function qemuIo(image: string, ...commands: string[]): void {
  const args = ['-f', 'qcow2'];
  for (const c of commands) args.push('-c', c);
  run(QEMU_IO, [...args, image]);
}

export interface QemuCheck {
  corruptions: number;
  leaks: number;
  allocatedClusters: number;
}

/** `qemu-img check` as JSON; a failing status (corruption) is reported in the result, not thrown. */
export function qemuCheck(image: string): QemuCheck {
  if (!existsSync(QEMU_IMG)) throw new Error(`${QEMU_IMG} is missing: install qemu-utils (apt-get install qemu-utils) to run the qcow2 interoperability tests`);
  const result = spawnSync(QEMU_IMG, ['check', '--output=json', image], { encoding: 'utf8' });
  if (result.stdout.trim() === '') throw new Error(`qemu-img check ${image} printed nothing (status ${result.status}): ${result.stderr}`);
  const json = JSON.parse(result.stdout) as { corruptions?: number; leaks?: number; 'allocated-clusters'?: number };
  return { corruptions: json.corruptions ?? 0, leaks: json.leaks ?? 0, allocatedClusters: json['allocated-clusters'] ?? 0 };
}

/** The guest-visible bytes of an image, as qemu-img converts it to raw. */
export function qemuRaw(image: string, format = 'qcow2'): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-qemu-raw-'));
  try {
    const out = join(dir, 'out.raw');
    qemuImg('convert', '-f', format, '-O', 'raw', image, out);
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function qemuInfo(image: string): Record<string, unknown> {
  return JSON.parse(qemuImg('info', '--output=json', image)) as Record<string, unknown>;
}

/** A deterministic byte pattern; different seeds give different bytes. */
export function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** A small deterministic PRNG for random-but-reproducible request streams. */
export function prng(seed: number): (below: number) => number {
  let x = seed >>> 0 || 1;
  return (below) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % below;
  };
}

/** Asserts two byte arrays are equal, naming the first difference (assert.deepEqual is slow on megabytes). */
export function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what = 'bytes'): void {
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
  const b = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  if (a.equals(b)) return;
  let i = 0;
  while (i < Math.min(a.length, b.length) && a[i] === b[i]) i++;
  throw new Error(`${what} differ: lengths ${a.length} and ${b.length}, first difference at offset ${i} (${a[i]} instead of ${b[i]})`);
}
