// Test support: `vireo host serve` as a real process, with its log, its TCP port and clients.

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { VmApiClient } from '../../src/vm/api/vm-api-client.js';
import { repoRoot } from './riscv-toolchain.js';

export class AgentProcess {
  log = '';
  port = 0;
  readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess, readonly dataDir: string) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    child.stderr!.setEncoding('utf8').on('data', (text: string) => { this.log += text; });
  }

  /** Starts an agent on `dataDir` listening on a free TCP port too; resolves once it serves. */
  static async start(dataDir: string, tokenFile: string, extra: string[] = []): Promise<AgentProcess> {
    const child = spawn(process.execPath, [join(repoRoot(), 'bin', 'vireo.js'), 'host', 'serve', '--data', dataDir, '--listen', 'tcp:127.0.0.1:0', '--token-file', tokenFile, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
    const agent = new AgentProcess(child, dataDir);
    const deadline = Date.now() + 30_000;
    while (!/serving .* and tcp:127\.0\.0\.1:(\d+)/.test(agent.log)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the agent did not start serving:\n${agent.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    agent.port = Number(/serving .* and tcp:127\.0\.0\.1:(\d+)/.exec(agent.log)![1]);
    return agent;
  }

  get socketPath(): string {
    return join(this.dataDir, 'agent.sock');
  }

  client(): VmApiClient {
    return new VmApiClient(this.socketPath, { unreachableHint: 'the test agent is gone' });
  }

  tcpClient(token?: string): VmApiClient {
    return new VmApiClient(`tcp:127.0.0.1:${this.port}`, { tcp: { host: '127.0.0.1', port: this.port }, ...(token === undefined ? {} : { token }), unreachableHint: 'the test agent is gone' });
  }
}

/** Polls `check` until it holds (returning its value) or `ms` pass (then fails with `what`). */
export async function eventually<T>(what: string, ms: number, check: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Whether process `pid` exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A flat RV64 binary that waits for interrupts forever: `wfi; j .-4`. The smallest guest an agent can run. */
export const IDLE_KERNEL = Buffer.from([0x73, 0x00, 0x50, 0x10, 0x6f, 0xf0, 0xdf, 0xff]);

/** Ends agents still running (SIGTERM) and the VM processes that outlived theirs (SIGKILL); for a test's `finally`. */
export async function stopAgents(agents: readonly AgentProcess[], vmPids: readonly number[] = []): Promise<void> {
  for (const agent of agents) {
    if (agent.child.exitCode === null && agent.child.signalCode === null) agent.child.kill('SIGTERM');
    await agent.exited;
  }
  for (const pid of vmPids) if (alive(pid)) process.kill(pid, 'SIGKILL');
}
