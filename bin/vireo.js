#!/usr/bin/env node
// The `vireo` executable: runs the compiled CLI (`npm install` and `npm run build` compile it).
let main, flushOutput;
try {
  ({ main } = await import('../dist/src/cli/main.js'));
  ({ flushOutput } = await import('../dist/src/cli/flush-output.js'));
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/src/cli/')) {
    console.error('vireo: the command line is not compiled yet; run `npm run build` (npm install does it too)');
    process.exit(1);
  }
  throw error;
}
const status = await main(process.argv.slice(2));
// Output a reader has stopped taking (a full pipe) must not keep the process alive forever.
await Promise.all([flushOutput(process.stdout), flushOutput(process.stderr)]);
process.exit(status);
