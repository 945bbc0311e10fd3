import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEnabled, loadFlags } from '../src/flags.js';

test('environment files override the defaults', () => {
  assert.equal(isEnabled('darkMode', 'development'), false);
  assert.equal(isEnabled('darkMode', 'staging'), true);
  assert.equal(isEnabled('giftCards', 'production'), true);
});

test('every environment loads', () => {
  for (const env of ['development', 'staging', 'production']) assert.equal(typeof loadFlags(env), 'object');
});

test('unknown flags throw', () => {
  assert.throws(() => isEnabled('noSuchFlag', 'development'), /unknown feature flag/);
});
