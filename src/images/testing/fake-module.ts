// Test support: a minimal ELF64 little-endian relocatable file whose only content is a
// .modinfo section, which is all the image build reads from a kernel module.

export function fakeModule(modinfo: readonly string[]): Buffer {
  const shstrtab = Buffer.from('\0.shstrtab\0.modinfo\0', 'latin1');
  const info = Buffer.from(modinfo.join('\0') + '\0\0', 'utf8');
  const header = Buffer.alloc(64);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]).copy(header);
  header.writeUInt16LE(1, 0x10); // ET_REL
  header.writeUInt16LE(243, 0x12); // EM_RISCV
  header.writeBigUInt64LE(BigInt(64 + shstrtab.length + info.length), 0x28); // e_shoff
  header.writeUInt16LE(64, 0x3a); // e_shentsize
  header.writeUInt16LE(3, 0x3c); // e_shnum
  header.writeUInt16LE(1, 0x3e); // e_shstrndx
  const section = (name: number, type: number, offset: number, size: number): Buffer => {
    const s = Buffer.alloc(64);
    s.writeUInt32LE(name, 0);
    s.writeUInt32LE(type, 4);
    s.writeBigUInt64LE(BigInt(offset), 0x18);
    s.writeBigUInt64LE(BigInt(size), 0x20);
    return s;
  };
  return Buffer.concat([header, shstrtab, info, section(0, 0, 0, 0), section(1, 3, 64, shstrtab.length), section(11, 1, 64 + shstrtab.length, info.length)]);
}
