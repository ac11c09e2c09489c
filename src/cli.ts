#!/usr/bin/env node
/**
 * The `llmlb` executable (`bin`): runs {@link runCli} with the real process and exits with its
 * code. All logic lives in `src/cli/` so it can be tested without spawning a process.
 */
import { runCli } from './cli/main.js';

runCli(process.argv.slice(2), process.env, { stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
    // Everything is closed by now and the process ends on its own; if some handle still holds the
    // event loop, do not hang.
    setTimeout(() => process.exit(code), 2_000).unref();
  },
  (err: unknown) => {
    process.stderr.write(`llmlb: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
