#!/usr/bin/env node
// Runs every compiled test (dist/**/*.test.js) with node's built-in runner. Node 20's --test
// does not expand globs, so the files are found here and passed explicitly. A compiled test
// whose .ts source is gone (stale output in dist/) is skipped.
// Usage: node scripts/run-tests.js [PATH-FILTER...]   (run only tests whose path contains a filter)

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

function findTests(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findTests(path));
    else if (entry.isFile() && entry.name.endsWith('.test.js')) found.push(path);
  }
  return found;
}

if (!existsSync(dist)) {
  console.error('run-tests: no dist/ directory; build first with `npx tsc -p .` (npm test does both)');
  process.exit(1);
}

const filters = process.argv.slice(2);
const files = [];
for (const file of findTests(dist).sort()) {
  const source = join(root, relative(dist, file)).replace(/\.js$/, '.ts');
  if (!existsSync(source)) {
    console.error(`run-tests: skipping ${relative(root, file)}: its source ${relative(root, source)} no longer exists`);
    continue;
  }
  const name = relative(root, source).split(sep).join('/');
  if (filters.length === 0 || filters.some((f) => name.includes(f))) files.push(file);
}

if (files.length === 0) {
  console.error(`run-tests: no tests found under dist/${filters.length ? ` matching ${filters.join(', ')}` : ''}`);
  process.exit(1);
}

const result = spawnSync(process.execPath, ['--test', ...files], { stdio: 'inherit', cwd: root });
if (result.error) {
  console.error(`run-tests: cannot start node --test: ${result.error.message}`);
  process.exit(1);
}
process.exit(result.status ?? 1);
