'use strict';

const assert = require('node:assert/strict');
const { test } = require('node:test');
const { gaveUpMessage } = require('../src/messages');
const { parseArgs } = require('../src/parse-args');

test('defaults', () => {
  assert.deepEqual(parseArgs(['http://localhost:8080/']), {
    timeoutMs: 30_000,
    retries: 3,
    url: 'http://localhost:8080/',
  });
});

test('--timeout in seconds and --retries', () => {
  const options = parseArgs(['--timeout', '5', '--retries', '1', 'http://x/']);
  assert.equal(options.timeoutMs, 5000);
  assert.equal(options.retries, 1);
});

test('the give-up message', () => {
  assert.equal(gaveUpMessage('http://x/', 120_000, 4), 'gave up on http://x/ after 2 minutes (4 attempts)');
});
