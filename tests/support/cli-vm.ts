// A VM run by Vireo's own command line in a child process, driven through its serial console:
// for tests that need a real process (one killed with SIGKILL, VMs side by side on two cores).

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './riscv-toolchain.js';

export class CliVm {
  readonly child: ChildProcessWithoutNullStreams;
  /** Everything the VM printed (console and diagnostics). */
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  /** Runs `vireo run ARGS`; or, given `command` (program and arguments), that instead, such as QEMU on the same image. */
  constructor(args: readonly string[], command?: readonly [string, ...string[]]) {
    const [program, ...programArgs] = command ?? [process.execPath, join(repoRoot(), 'bin', 'vireo.js'), 'run', ...args];
    this.child = spawn(program, programArgs, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => (this.output += d));
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => (this.output += d));
    this.exited = new Promise((resolve) => this.child.on('close', (code, signal) => resolve({ code, signal })));
  }

  /** Resolves with the match once the output from `from` on matches `pattern`. */
  async waitFor(pattern: RegExp, timeoutMs: number, from = 0): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    let ended = false;
    void this.exited.then(() => (ended = true));
    for (;;) {
      const match = pattern.exec(this.output.slice(from));
      if (match) return match;
      if (ended) throw new Error(`the VM exited before printing ${pattern}; output:\n${this.output.slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms; output:\n${this.output.slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  type(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** Runs a shell command at the prompt and returns its output (between markers the typed line cannot contain). */
  async run(command: string, timeoutMs = 120_000): Promise<string> {
    const from = this.output.length;
    const tag = `${Date.now() % 100000}`;
    this.type(`echo "==[start-""${tag}]=="; ${command}; echo "==[done-""${tag}]=="`);
    await this.waitFor(new RegExp(`==\\[done-${tag}\\]==`), timeoutMs, from);
    const text = this.output.slice(from).replace(/\r/g, '');
    const begin = new RegExp(`==\\[start-${tag}\\]==\n`).exec(text);
    if (!begin) throw new Error(`the start marker of ${JSON.stringify(command)} is missing`);
    const body = text.slice(begin.index + begin[0].length);
    return body.slice(0, body.search(new RegExp(`==\\[done-${tag}\\]==`)));
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.kill(signal);
    return this.exited;
  }
}
