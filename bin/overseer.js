#!/usr/bin/env node
// The `overseer` command. An installed package runs the built JavaScript (dist/, made by `npm run build`, which
// `prepare` runs on `npm install`/`npm pack`). In a checkout (src/ is present) it runs the TypeScript source through
// tsx instead, so `npm start` and the tests always run what is in src/, never a stale build.
import { existsSync } from 'node:fs';

if (existsSync(new URL('../src/cli/main.ts', import.meta.url))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
} else {
  await import('../dist/cli/main.js');
}
