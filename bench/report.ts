// Number formats and the plain-text table of the benchmark report.

/** 296123456 -> "296,123,456". */
export function grouped(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Three decimals, or three significant figures below 0.1 s (QEMU's per-repetition times). */
export function seconds(s: number): string {
  return s >= 0.1 ? s.toFixed(3) : s.toPrecision(3);
}

export function mips(instructions: number, s: number): number {
  return instructions / s / 1e6;
}

/** MIPS to three significant figures, without exponents. */
export function rate(m: number): string {
  if (m >= 100) return m.toFixed(0);
  if (m >= 10) return m.toFixed(1);
  return m.toFixed(2);
}

export function ratio(r: number): string {
  return r >= 1 ? r.toFixed(2) : r.toPrecision(2);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function geometricMean(values: number[]): number {
  if (values.length === 0) return NaN;
  return Math.exp(values.reduce((sum, v) => sum + Math.log(v), 0) / values.length);
}

/** Columns padded to their widest cell; the first column left-aligned, the others right-aligned. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.map(line)].join('\n');
}
