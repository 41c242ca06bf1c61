// Output of `vireo disk` for people: aligned "key: value" lines, tables, sizes in binary units,
// and percentage lines for long operations.

import type { DiskIo } from './disk-io.js';

/** `rows` as "key: value" lines with the values aligned. */
export function formatFields(rows: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(0, ...rows.map(([key]) => key.length + 1));
  return rows.map(([key, value]) => `${`${key}:`.padEnd(width)} ${value}\n`).join('');
}

/** A table with a header row, columns padded to their widest cell. */
export function formatTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => `${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}\n`;
  return line(headers) + rows.map(line).join('');
}

/** "10 GiB (10737418240 bytes)", or "512 bytes" below 1 KiB. */
export function describeSize(bytes: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  if (bytes < 1024) return `${bytes} bytes`;
  let value = bytes;
  let unit = -1;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = Number.isInteger(value) ? String(value) : value.toFixed(value < 10 ? 2 : 1);
  return `${shown} ${units[unit]} (${bytes} bytes)`;
}

export function printJson(io: DiskIo, value: unknown): void {
  io.out(`${JSON.stringify(value, null, 2)}\n`);
}

/** A progress callback writing "<label>: N%" lines to stderr when each whole percent is reached, or nothing when disabled. */
export function progressLines(io: DiskIo, label: string, enabled: boolean): ((done: number, total: number) => void) | undefined {
  if (!enabled) return undefined;
  let last = -1;
  return (done, total) => {
    const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
    if (percent === last) return;
    last = percent;
    io.err(`${label}: ${percent}%\n`);
  };
}
