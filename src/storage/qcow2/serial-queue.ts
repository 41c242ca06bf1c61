// Runs async operations one after another, in the order they were queued. The qcow2 image
// puts every request through one queue so that concurrent callers never interleave metadata
// updates (allocation, copy-on-write, refcount changes).

export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /** Queues `task`; it starts when every earlier task has settled. Rejections stay with their caller. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
