// The IPv4-to-MAC table a host keeps from ARP (RFC 826), bounded: a guest sending requests
// from ever new sender addresses displaces the least recently used entries instead of
// growing the table.

import type { Ipv4Address } from './ipv4.js';
import type { MacAddress } from './mac-address.js';

export class ArpCacheError extends Error {
  readonly kind = 'arp-cache';
}

export class ArpCache {
  /** Plenty for the guests of one host; small enough that a flood costs nothing. */
  static readonly DEFAULT_CAPACITY = 256;

  readonly capacity: number;
  /** Iteration order is recency: the first key is the least recently used. */
  private readonly entries = new Map<Ipv4Address, MacAddress>();
  private evicted = 0;

  constructor(capacity = ArpCache.DEFAULT_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new ArpCacheError(`ARP cache capacity ${capacity} must be a positive integer`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Entries pushed out to make room for newer ones. */
  get evictions(): number {
    return this.evicted;
  }

  has(ip: Ipv4Address): boolean {
    return this.entries.has(ip);
  }

  /** The MAC for `ip`, marking the entry as recently used. */
  get(ip: Ipv4Address): MacAddress | undefined {
    const mac = this.entries.get(ip);
    if (mac !== undefined) this.touch(ip, mac);
    return mac;
  }

  /** Adds or updates an entry (as recently used), evicting the least recently used when full. */
  set(ip: Ipv4Address, mac: MacAddress): void {
    if (!this.entries.has(ip) && this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next().value as Ipv4Address;
      this.entries.delete(oldest);
      this.evicted++;
    }
    this.touch(ip, mac);
  }

  delete(ip: Ipv4Address): boolean {
    return this.entries.delete(ip);
  }

  /** Addresses from least to most recently used. */
  keys(): IterableIterator<Ipv4Address> {
    return this.entries.keys();
  }

  private touch(ip: Ipv4Address, mac: MacAddress): void {
    // A Map keeps insertion order, so re-inserting moves the entry to the recent end.
    this.entries.delete(ip);
    this.entries.set(ip, mac);
  }
}
