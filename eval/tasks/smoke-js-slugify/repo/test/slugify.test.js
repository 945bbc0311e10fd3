import assert from 'node:assert/strict';
import { test } from 'node:test';
import { slugify } from '../src/slugify.js';

test('joins words with a dash', () => {
  assert.equal(slugify('Hello World'), 'hello-world');
});

test('lower-cases letters and keeps digits', () => {
  assert.equal(slugify('Top 10 Tips'), 'top-10-tips');
});
