#!/usr/bin/env node
// The `vireo` executable: runs the compiled CLI (`npm install` and `npm run build` compile it).
let main;
try {
  ({ main } = await import('../dist/src/cli/main.js'));
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/src/cli/main.js')) {
    console.error('vireo: the command line is not compiled yet; run `npm run build` (npm install does it too)');
    process.exit(1);
  }
  throw error;
}
process.exitCode = await main(process.argv.slice(2));
