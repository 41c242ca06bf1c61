// Asking the person at the terminal: a line, or a secret that is not echoed.

import { createInterface } from 'node:readline';
import { UsageError } from '../usage-error.js';

export async function ask(command: string, question: string, secret = false): Promise<string> {
  if (!process.stdin.isTTY) throw new UsageError(command, `${question.replace(/: $/u, '')} is needed and stdin is not a terminal; give it as an option`);
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  if (secret) {
    // Echo nothing of what is typed (readline writes through _writeToOutput).
    const output = rl as unknown as { _writeToOutput: (s: string) => void };
    let prompted = false;
    output._writeToOutput = (s: string) => {
      if (!prompted) process.stderr.write(s);
      prompted = true;
    };
  }
  try {
    return await new Promise<string>((resolve) => rl.question(question, resolve));
  } finally {
    if (secret) process.stderr.write('\n');
    rl.close();
  }
}
