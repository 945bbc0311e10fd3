/**
 * The `devbot` command: `bin/devbot.js` imports this file (the sources in a checkout, dist/ when
 * installed). Everything is in src/cli/: the commands (one file each) and the error boundary
 * that turns a failure into one line and an exit code.
 */
import { runCli } from './cli/run-cli.js';

process.exitCode = await runCli(process.argv.slice(2), { env: process.env, cwd: process.cwd() });
