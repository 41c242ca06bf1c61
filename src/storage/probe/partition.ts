// One partition as the boot probe sees it, whichever table described it.

export interface Partition {
  /** 1-based, as U-Boot and Linux number them (GPT: entry index + 1; MBR: slot 1-4, logical from 5). */
  number: number;
  /** Byte offset on the disk, and length. */
  offset: number;
  size: number;
  /** GPT type GUID, or the MBR type byte as 0xNN. */
  type: string;
  typeName: string;
  /** GPT attribute bit 2 (legacy BIOS bootable) or the MBR boot indicator 0x80: U-Boot's PART_BOOTABLE. */
  bootable: boolean;
  /** An EFI system partition by its type. */
  esp: boolean;
  /** The GPT partition name, when it has one. */
  label?: string;
}

export interface PartitionTable {
  scheme: 'gpt' | 'mbr';
  partitions: Partition[];
}
