#!/usr/bin/env node
// Builds native/ (the addon that gives guest RAM back to the host) with node-gyp, against the
// headers of the Node.js that runs this script when it has them (Debian's nodejs and the
// official tarballs put them in <prefix>/include/node), so no header download is needed.
// Run by `npm ci` / `npm install` (the install script) and by `npm run build:native`.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const prefix = join(dirname(process.execPath), '..');
const bundled = join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const nodeGyp = process.env.npm_config_node_gyp ?? (existsSync(bundled) ? bundled : null);

const args = ['rebuild', '--directory', join(root, 'native')];
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
const command = nodeGyp === null ? ['node-gyp', args] : [process.execPath, [nodeGyp, ...args]];
const result = spawnSync(command[0], command[1], { stdio: 'inherit' });
if (result.status !== 0) {
  console.error(
    'build-native: the native addon did not build; VMs then keep the RAM their guests free. ' +
      'It needs python3, make and a C compiler (apt-get install python3 build-essential), and node-gyp (bundled with npm).',
  );
  process.exit(result.status ?? 1);
}
