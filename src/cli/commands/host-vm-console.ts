// `vireo host vm console NAME`: the VM's serial console on this terminal over the agent's
// WebSocket, in raw mode; Ctrl-] leaves (the VM keeps running).

import { WebSocket, type RawData } from 'ws';
import { agentClient, type AgentAddress } from './host-connect.js';

/** Ctrl-]: the byte that leaves the console, as telnet's escape. */
const ESCAPE = 0x1d;

/** Attaches stdin/stdout to the console until Ctrl-], the VM stopping, or an error; the exit status. */
export function attachConsole(address: AgentAddress, name: string, io: { err(text: string): void }): Promise<number> {
  const { url, headers } = agentClient(address).webSocket(`/vms/${encodeURIComponent(name)}/console`);
  const ws = new WebSocket(url, { headers });
  const stdin = process.stdin;
  return new Promise((resolve) => {
    let status = 0;
    const raw = stdin.isTTY === true;
    const onInput = (chunk: Buffer): void => {
      const at = chunk.indexOf(ESCAPE);
      if (at >= 0) {
        if (at > 0) ws.send(chunk.subarray(0, at));
        ws.close(1000);
        return;
      }
      ws.send(chunk);
    };
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      stdin.off('data', onInput);
      if (raw) stdin.setRawMode(false);
      stdin.pause();
      resolve(status);
    };
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString('utf8'); });
      res.on('end', () => {
        let message = `HTTP ${res.statusCode}`;
        try {
          message = (JSON.parse(text) as { error: { message: string } }).error.message;
        } catch {
          // Not the agent's JSON error: the status says enough.
        }
        io.err(`vireo host: console: ${message}\n`);
        status = 1;
        finish();
      });
    });
    ws.on('open', () => {
      if (raw) {
        stdin.setRawMode(true);
        io.err(`vireo host: console of ${name}; Ctrl-] leaves\r\n`);
      }
      stdin.on('data', onInput);
      stdin.resume();
    });
    ws.on('message', (data: RawData) => process.stdout.write(Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer)));
    ws.on('close', (code, reason) => {
      if (code !== 1000 && code !== 1005 && status === 0) {
        io.err(`\r\nvireo host: console closed: ${reason.toString() || `code ${code}`}\n`);
        status = 1;
      }
      finish();
    });
    ws.on('error', (e) => {
      if (status === 0) io.err(`vireo host: console: ${e.message}\n`);
      status = 1;
    });
  });
}
