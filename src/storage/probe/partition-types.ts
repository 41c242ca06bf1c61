// Names for the partition types a boot probe reports: GPT type GUIDs (UEFI spec 5.3.3 and the
// Discoverable Partitions Specification) and MBR type bytes.

export const EFI_SYSTEM_GUID = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';
export const LINUX_FILESYSTEM_GUID = '0FC63DAF-8483-4772-8E79-3D69D8477DE4';
export const MBR_EFI_SYSTEM = 0xef;
/** Types that hold a chain of logical partitions. */
export const MBR_EXTENDED_TYPES: readonly number[] = [0x05, 0x0f, 0x85];
export const MBR_GPT_PROTECTIVE = 0xee;

const GPT_NAMES: Readonly<Record<string, string>> = {
  [EFI_SYSTEM_GUID]: 'EFI system',
  [LINUX_FILESYSTEM_GUID]: 'Linux filesystem',
  '72EC70A6-CF74-40E6-BD49-4BDA08E8F224': 'Linux root (RISC-V 64)',
  'BC13C2FF-59E6-4262-A352-B275FD6F7172': 'Linux extended boot',
  '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F': 'Linux swap',
  'E6D6D379-F507-44C2-A23C-238F2A3DF928': 'Linux LVM',
  'A19D880F-05FC-4D3B-A006-743F0F84911E': 'Linux RAID',
  'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7': 'Microsoft basic data',
  '21686148-6449-6E6F-744E-656564454649': 'BIOS boot',
};

const MBR_NAMES: Readonly<Record<number, string>> = {
  0x01: 'FAT12',
  0x04: 'FAT16 <32M',
  0x05: 'Extended',
  0x06: 'FAT16',
  0x07: 'HPFS/NTFS/exFAT',
  0x0b: 'W95 FAT32',
  0x0c: 'W95 FAT32 (LBA)',
  0x0e: 'W95 FAT16 (LBA)',
  0x0f: 'W95 Extended (LBA)',
  0x82: 'Linux swap',
  0x83: 'Linux',
  0x85: 'Linux extended',
  0x8e: 'Linux LVM',
  0xef: 'EFI system',
};

export function gptTypeName(guid: string): string {
  return GPT_NAMES[guid] ?? 'unknown type';
}

export function mbrTypeName(type: number): string {
  return MBR_NAMES[type] ?? 'unknown type';
}

/** A GUID as text: the first three fields are little-endian on disk (UEFI spec appendix A). */
export function guidText(bytes: Uint8Array): string {
  const hex = (from: number, to: number, reverse: boolean): string => {
    const part = Array.from(bytes.subarray(from, to), (b) => b.toString(16).padStart(2, '0'));
    return (reverse ? part.reverse() : part).join('').toUpperCase();
  };
  return `${hex(0, 4, true)}-${hex(4, 6, true)}-${hex(6, 8, true)}-${hex(8, 10, false)}-${hex(10, 16, false)}`;
}
