// A stand-in for a `vireo run --api SOCK` process, for testing the agent without booting
// anything: it serves the VM API (with FakeVmController) on the socket named in its arguments,
// echoes console input back upper-cased, exits 130 after an API stop, and can be made to crash.

import { PassThrough } from 'node:stream';
import { serveVmApi, type VmApiServer } from '../../src/vm/api/vm-api-server.js';
import type { ProcessExit, SpawnRequest, SpawnVm, VmProcess } from '../../src/host/vm-process.js';
import { FakeVmController } from '../vm/fake-vm-controller.js';

export class FakeVmProcess implements VmProcess {
  static nextPid = 900_000;
  readonly pid = FakeVmProcess.nextPid++;
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly exited: Promise<ProcessExit>;
  readonly controller: FakeVmController;
  readonly signals: NodeJS.Signals[] = [];
  /** When set, an API stop is ignored (a hung guest), so the agent must fall back to signals. */
  ignoreStop = false;
  private finish!: (exit: ProcessExit) => void;
  private server: VmApiServer | null = null;
  private done = false;

  constructor(readonly request: SpawnRequest) {
    this.exited = new Promise((resolve) => { this.finish = resolve; });
    const process = this;
    this.controller = new (class extends FakeVmController {
      override async stop(): Promise<void> {
        if (process.ignoreStop) return;
        await super.stop();
        setImmediate(() => void process.exit({ code: 130, signal: null }));
      }
    })();
    this.stdin.on('data', (chunk: Buffer) => this.stdout.write(chunk.toString('utf8').toUpperCase()));
  }

  /** Starts serving the API at the --api path of its arguments. */
  async serve(): Promise<void> {
    const api = this.request.runArgs[this.request.runArgs.indexOf('--api') + 1]!;
    this.server = await serveVmApi(api, this.controller);
  }

  kill(signal: NodeJS.Signals): void {
    this.signals.push(signal);
    if (signal === 'SIGTERM' && this.ignoreStop) return;
    void this.exit({ code: null, signal });
  }

  /** Ends the "process" as `exit` says (a crash: { code: 1, signal: null }). */
  async exit(exit: ProcessExit): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.server?.close();
    this.stdout.end();
    this.finish(exit);
  }
}

/** A SpawnVm that makes FakeVmProcesses and keeps them for the test to inspect and crash. */
export function fakeSpawner(options: { serve?: boolean } = {}): { spawn: SpawnVm; spawned: FakeVmProcess[] } {
  const spawned: FakeVmProcess[] = [];
  const spawn: SpawnVm = (request) => {
    const child = new FakeVmProcess(request);
    spawned.push(child);
    if (options.serve !== false) void child.serve();
    return child;
  };
  return { spawn, spawned };
}
