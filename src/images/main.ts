// Builds (or verifies) the Debian riscv64 guest image by hand:
//   node dist/src/images/main.js [--cache DIR] [--mirror URL]
// Progress goes to stderr; the image's paths and versions, as JSON, to stdout.

import { ensureDebianImage } from './debian-image.js';
import { ImageError } from './image-error.js';

function usage(): never {
  process.stderr.write('usage: node dist/src/images/main.js [--cache DIR] [--mirror URL]\n');
  process.exit(2);
}

const args = process.argv.slice(2);
let cacheRoot: string | undefined;
let mirror: string | undefined;
for (let i = 0; i < args.length; i++) {
  const value = args[i + 1];
  if (args[i] === '--cache' && value) (cacheRoot = value), i++;
  else if (args[i] === '--mirror' && value) (mirror = value), i++;
  else usage();
}

const started = Date.now();
try {
  const image = await ensureDebianImage({
    ...(cacheRoot ? { cacheRoot } : {}),
    ...(mirror ? { mirror } : {}),
    onProgress: (step, detail) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${step}: ${detail}\n`),
  });
  const { packages, ...rest } = image;
  process.stdout.write(JSON.stringify({ ...rest, packages: packages.map((p) => `${p.name}=${p.version}`) }, null, 2) + '\n');
} catch (error) {
  if (!(error instanceof ImageError)) throw error;
  process.stderr.write(`vireo image: ${error.message}\n`);
  process.exit(1);
}
