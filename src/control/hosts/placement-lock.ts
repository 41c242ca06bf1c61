// Placement reads what each host has, then defines the VM on the one chosen and records it: two
// creations in one data center at once could both see the same room. Within a master they take
// turns per data center; each agent still refuses what its own budget cannot hold.

export class PlacementLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `work` once every earlier holder of `key` has finished. */
  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    const done = before.catch(() => {}).then(work);
    const tail = done.catch(() => {});
    this.tails.set(key, tail);
    try {
      return await done;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
