// Drives a booted guest through its serial console, in-process: waits for output, types
// commands and reads their results, as a user at the console would.

import { Machine, type MachineOptions, type RunResult } from '../../src/machine/machine.js';

export class GuestSessionError extends Error {
  readonly kind = 'guest-session';
}

export class GuestSession {
  readonly machine: Machine;
  /** Everything the guest wrote to its console so far. */
  output = '';
  private readonly done: Promise<RunResult>;
  private ended: RunResult | null = null;
  private readonly decoder = new TextDecoder();

  constructor(options: Omit<MachineOptions, 'serial'>) {
    this.machine = new Machine({
      ...options,
      serial: { write: (byte: number) => { this.output += this.decoder.decode(new Uint8Array([byte]), { stream: true }); } },
    });
    this.done = this.machine.run().then((r) => (this.ended = r));
  }

  /** Resolves once the output (from `from` on) matches; rejects after `timeoutMs` or if the guest ends. */
  async waitFor(pattern: RegExp, timeoutMs: number, from = 0): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.output.slice(from));
      if (match) return match;
      if (this.ended) throw new GuestSessionError(`the guest ended (${this.ended.reason}) before printing ${pattern}; output:\n${this.tail()}`);
      if (Date.now() > deadline) throw new GuestSessionError(`no ${pattern} within ${timeoutMs} ms; output:\n${this.tail()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Types a line at the console. */
  type(line: string): void {
    this.machine.sendInput(new TextEncoder().encode(`${line}\n`));
  }

  /**
   * Runs a shell command and returns what it printed. Markers echoed before and after it,
   * built so that the typed command line itself never contains them, bound the output: the
   * prompt and the terminal's echo of the line may interleave in any order before it.
   */
  async run(command: string, timeoutMs = 60_000): Promise<string> {
    const from = this.output.length;
    const tag = `${Date.now() % 100000}`;
    this.type(`echo "==[start-""${tag}]=="; ${command}; echo "==[done-""${tag}]=="`);
    const start = new RegExp(`==\\[start-${tag}\\]==\r?\n`);
    const done = new RegExp(`==\\[done-${tag}\\]==`);
    await this.waitFor(done, timeoutMs, from);
    const text = this.output.slice(from);
    const begin = start.exec(text);
    if (!begin) throw new GuestSessionError(`the start marker of ${JSON.stringify(command)} is missing; output:\n${this.tail()}`);
    const body = text.slice(begin.index + begin[0].length);
    return body.slice(0, body.search(done)).replace(/\r/g, '');
  }

  /** Waits for the guest to end by itself (poweroff, failure, limits). */
  async exit(timeoutMs: number): Promise<RunResult> {
    const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new GuestSessionError(`the guest did not end within ${timeoutMs} ms; output:\n${this.tail()}`)), timeoutMs).unref());
    return Promise.race([this.done, timer]);
  }

  /** Stops the guest if it still runs, and releases the host descriptors of its shared directories. */
  async stop(): Promise<RunResult> {
    if (!this.ended) this.machine.requestStop();
    const result = await this.done;
    await this.machine.virtio.close();
    return result;
  }

  private tail(): string {
    return this.output.slice(-3000);
  }
}
