#!/usr/bin/env node
// The `crikit` bin.
import { createProgram } from './program.js';

createProgram().parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`crikit: ${(err as Error).message ?? String(err)}\n`);
  process.exitCode = 1;
});
