'use strict';

const assert = require('node:assert/strict');
const { test } = require('node:test');
const ms = require('ms');
const { parseArgs } = require('../src/parse-args');

const timeoutOf = (value) => parseArgs(['--timeout', value, 'http://x/']).timeoutMs;

test('durations with a unit', () => {
  assert.equal(timeoutOf('90s'), 90_000);
  assert.equal(timeoutOf('2m'), 120_000);
  assert.equal(timeoutOf('1.5h'), 5_400_000);
  assert.equal(timeoutOf('500ms'), 500);
  for (const value of ['1d', '3 minutes', '10 secs']) assert.equal(timeoutOf(value), ms(value));
});

test('a bare number still means seconds', () => {
  assert.equal(timeoutOf('45'), 45_000);
  assert.equal(timeoutOf('0.5'), 500);
});

test('a value that is not a duration is refused, naming it', () => {
  assert.throws(() => timeoutOf('soon'), /soon/);
  assert.throws(() => timeoutOf('2 fortnights'), /2 fortnights/);
});

test('other options are unchanged', () => {
  assert.deepEqual(parseArgs(['--retries', '2', '--timeout', '1m', 'http://y/']), {
    timeoutMs: 60_000,
    retries: 2,
    url: 'http://y/',
  });
});
