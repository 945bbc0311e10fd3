#!/usr/bin/env node
'use strict';

const { parseArgs } = require('../src/parse-args');
const { gaveUpMessage } = require('../src/messages');

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (!options.url) {
    console.error('usage: fetch-retry [--timeout SECONDS] [--retries N] URL');
    process.exit(2);
  }
  const started = Date.now();
  for (let attempt = 1; attempt <= options.retries + 1; attempt++) {
    try {
      const res = await fetch(options.url, { signal: AbortSignal.timeout(options.timeoutMs) });
      if (res.ok) return;
    } catch {
      // try again
    }
    if (Date.now() - started > options.timeoutMs) break;
  }
  console.error(gaveUpMessage(options.url, Date.now() - started, options.retries + 1));
  process.exit(1);
}

main();
