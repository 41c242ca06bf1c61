// A read-only FAT12/16/32 file system inside one partition, enough to look paths up: the FAT's
// cluster chains (checked for loops and out-of-range clusters) and directories with long names.

import type { DiskReader } from './disk-reader.js';
import { readFatLayout, type FatLayout } from './fat-boot-sector.js';
import { fatDirEntries, type FatDirEntry } from './fat-directory.js';
import { pathComponents, type EntryKind, type FileSystem } from './file-system.js';
import type { ProbeError } from './probe-error.js';

/** Section 6: a directory holds at most 65,536 entries of 32 bytes. */
const MAX_DIRECTORY_BYTES = 65536 * 32;

export class FatVolume implements FileSystem {
  readonly caseInsensitive = true;
  private readonly fatSectors = new Map<number, Uint8Array>();

  private constructor(private readonly part: DiskReader, private readonly layout: FatLayout) {}

  static async open(part: DiskReader): Promise<FatVolume> {
    return new FatVolume(part, await readFatLayout(part));
  }

  get type(): string {
    return this.layout.type;
  }

  async lookup(path: string): Promise<EntryKind | undefined> {
    let entries = await this.rootEntries();
    const names = pathComponents(path);
    for (const [i, name] of names.entries()) {
      const wanted = name.toUpperCase();
      const entry = entries.find((e) => e.longName?.toUpperCase() === wanted || e.shortName.toUpperCase() === wanted);
      if (!entry) return undefined;
      if (i === names.length - 1) return entry.directory ? 'directory' : 'file';
      if (!entry.directory) return undefined;
      entries = await this.chainEntries(entry.firstCluster);
    }
    return 'directory';
  }

  private fail(message: string): ProbeError {
    return this.part.error(`the ${this.layout.type} file system is corrupt: ${message}`);
  }

  private async rootEntries(): Promise<FatDirEntry[]> {
    if (this.layout.type === 'FAT32') return this.chainEntries(this.layout.rootCluster);
    return fatDirEntries(await this.part.read(this.layout.rootDirOffset, this.layout.rootDirBytes)).entries;
  }

  /** The entries of the directory whose chain starts at `first`, read along it until the end marker. */
  private async chainEntries(first: number): Promise<FatDirEntry[]> {
    if (first === 0) return this.rootEntries(); // ".." of a top-level directory
    // Parsed as one run of bytes: a long name's entries may straddle two clusters.
    const clusters: Uint8Array[] = [];
    const seen = new Set<number>();
    for (let cluster: number | undefined = first; cluster !== undefined; cluster = await this.nextCluster(cluster)) {
      this.checkCluster(cluster);
      if (seen.has(cluster)) throw this.fail(`the cluster chain from ${first} loops back to cluster ${cluster}`);
      seen.add(cluster);
      if (seen.size * this.layout.bytesPerCluster > MAX_DIRECTORY_BYTES) throw this.fail(`the directory at cluster ${first} is larger than a directory can be`);
      const bytes = await this.part.read(this.layout.dataOffset + (cluster - 2) * this.layout.bytesPerCluster, this.layout.bytesPerCluster);
      clusters.push(bytes);
      if (fatDirEntries(bytes).ended) break;
    }
    return fatDirEntries(Buffer.concat(clusters)).entries;
  }

  private checkCluster(cluster: number): void {
    if (cluster < 2 || cluster > this.layout.clusterCount + 1) throw this.fail(`a chain names cluster ${cluster}, outside 2-${this.layout.clusterCount + 1}`);
  }

  /** The FAT entry of `cluster`: the next cluster, or undefined at the end of the chain. */
  private async nextCluster(cluster: number): Promise<number | undefined> {
    const { type } = this.layout;
    const byteAt = type === 'FAT12' ? cluster + (cluster >> 1) : type === 'FAT16' ? cluster * 2 : cluster * 4;
    // A FAT12 entry may straddle two sectors: read both bytes through the sector cache.
    const byte = async (at: number) => {
      const size = this.layout.bytesPerSector;
      const index = Math.floor(at / size);
      let sector = this.fatSectors.get(index);
      if (!sector) this.fatSectors.set(index, (sector = await this.part.read(this.layout.fatOffset + index * size, size)));
      return sector[at % size]!;
    };
    let value: number;
    let end: number;
    if (type === 'FAT12') {
      const pair = (await byte(byteAt)) | ((await byte(byteAt + 1)) << 8);
      value = cluster & 1 ? pair >> 4 : pair & 0xfff;
      end = 0xff8;
    } else if (type === 'FAT16') {
      value = (await byte(byteAt)) | ((await byte(byteAt + 1)) << 8);
      end = 0xfff8;
    } else {
      value = ((await byte(byteAt)) | ((await byte(byteAt + 1)) << 8) | ((await byte(byteAt + 2)) << 16) | ((await byte(byteAt + 3)) << 24)) & 0x0fffffff;
      end = 0x0ffffff8;
    }
    if (value >= end) return undefined;
    if (value === 0) throw this.fail(`the chain through cluster ${cluster} runs into a free cluster`);
    return value;
  }
}
