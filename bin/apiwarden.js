#!/usr/bin/env node
import { main } from '../dist/src/cli/main.js';

// `apiwarden … | head`: the reader left; that is the end of the output, not an error.
process.stdout.on('error', (err) => {
  if (err?.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`apiwarden: internal error: ${err?.stack ?? err}\n`);
    process.exitCode = 70;
  },
);
