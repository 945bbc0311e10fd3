import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { isEnabled, loadFlags } from '../src/flags.js';

const ENVS = ['development', 'staging', 'production'];

test('the new checkout is on everywhere', () => {
  for (const env of ENVS) assert.equal(isEnabled('newCheckout', env), true, env);
});

test('the beta banner flag is gone from every file', () => {
  for (const env of ENVS) {
    assert.equal('betaBanner' in loadFlags(env), false, env);
    assert.throws(() => isEnabled('betaBanner', env), /unknown feature flag/);
  }
  const dir = new URL('../config/', import.meta.url);
  for (const name of readdirSync(dir)) {
    assert.doesNotMatch(readFileSync(new URL(name, dir), 'utf8'), /betaBanner/, name);
  }
});

test('the other flags are unchanged', () => {
  const expected = {
    development: { darkMode: false, giftCards: false },
    staging: { darkMode: true, giftCards: false },
    production: { darkMode: false, giftCards: true },
  };
  for (const env of ENVS) {
    const { newCheckout, ...rest } = loadFlags(env);
    assert.deepEqual(rest, expected[env], env);
  }
});
