// The symbol table of an ELF64 file (System V ABI, "Symbol Table"): the board uses it to find
// the HTIF mailboxes (tohost, fromhost) and the signature range of conformance tests.

const SHT_SYMTAB = 2;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;

/**
 * Name -> value of every named symbol. A file without a symbol table, or with one that does
 * not fit inside the file, yields an empty map: symbols are optional for running a program.
 */
export function readElfSymbols(bytes: Uint8Array): Map<string, bigint> {
  const symbols = new Map<string, bigint>();
  if (bytes.length < 64) return symbols;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shoff = Number(view.getBigUint64(0x28, true));
  const shentsize = view.getUint16(0x3a, true);
  const shnum = view.getUint16(0x3c, true);
  if (shoff === 0 || shentsize !== SHDR_SIZE || shoff + shnum * SHDR_SIZE > bytes.length) return symbols;
  const section = (i: number) => {
    const at = shoff + i * SHDR_SIZE;
    return {
      type: view.getUint32(at + 4, true),
      offset: Number(view.getBigUint64(at + 0x18, true)),
      size: Number(view.getBigUint64(at + 0x20, true)),
      link: view.getUint32(at + 0x28, true),
    };
  };
  const decoder = new TextDecoder();
  for (let i = 0; i < shnum; i++) {
    const symtab = section(i);
    if (symtab.type !== SHT_SYMTAB || symtab.link >= shnum) continue;
    const strtab = section(symtab.link);
    if (symtab.offset + symtab.size > bytes.length || strtab.offset + strtab.size > bytes.length) continue;
    for (let at = symtab.offset; at + SYM_SIZE <= symtab.offset + symtab.size; at += SYM_SIZE) {
      const nameOffset = view.getUint32(at, true);
      if (nameOffset === 0 || nameOffset >= strtab.size) continue;
      const start = strtab.offset + nameOffset;
      let end = start;
      while (end < strtab.offset + strtab.size && bytes[end] !== 0) end++;
      const name = decoder.decode(bytes.subarray(start, end));
      if (!symbols.has(name)) symbols.set(name, view.getBigUint64(at + 8, true));
    }
  }
  return symbols;
}
