'use strict';

const DEFAULTS = { timeoutMs: 30_000, retries: 3, url: null };

/** Parses the command line (without `node` and the script name). */
function parseArgs(argv) {
  const options = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--timeout') {
      options.timeoutMs = Number.parseFloat(argv[++i]) * 1000;
    } else if (arg === '--retries') {
      options.retries = Number.parseInt(argv[++i], 10);
    } else if (arg.startsWith('--')) {
      throw new Error(`unknown option ${arg}`);
    } else {
      options.url = arg;
    }
  }
  return options;
}

module.exports = { parseArgs };
