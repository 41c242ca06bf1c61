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
   * Runs a shell command and returns what it printed. A marker echoed afterwards, built so
   * that the typed command line itself never contains it, shows where the output ends.
   */
  async run(command: string, timeoutMs = 60_000): Promise<string> {
    const from = this.output.length;
    const tag = `${Date.now() % 100000}`;
    this.type(`${command}; echo "==[done-""${tag}]=="`);
    const marker = new RegExp(`==\\[done-${tag}\\]==`);
    await this.waitFor(marker, timeoutMs, from);
    // The previous command's marker line may end only now, and the shell's prompt may land
    // inside the echo of this command: skip leading line ends, then the echoed line.
    const text = this.output.slice(from).replace(/^[\r\n]+/, '');
    const start = text.indexOf('\n') + 1;
    const end = text.search(marker);
    return text.slice(start, end).replace(/\r/g, '');
  }

  /** Waits for the guest to end by itself (poweroff, failure, limits). */
  async exit(timeoutMs: number): Promise<RunResult> {
    const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new GuestSessionError(`the guest did not end within ${timeoutMs} ms; output:\n${this.tail()}`)), timeoutMs).unref());
    return Promise.race([this.done, timer]);
  }

  /** Stops the guest if it still runs. */
  async stop(): Promise<RunResult> {
    if (!this.ended) this.machine.requestStop();
    return this.done;
  }

  private tail(): string {
    return this.output.slice(-3000);
  }
}
