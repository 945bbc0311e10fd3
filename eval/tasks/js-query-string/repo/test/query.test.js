import assert from 'node:assert/strict';
import { test } from 'node:test';
import { searchUrl, toQueryString } from '../src/query.js';

test('joins simple parameters in order', () => {
  assert.equal(toQueryString({ q: 'tea', page: 2 }), 'q=tea&page=2');
});

test('no parameters, no question mark', () => {
  assert.equal(searchUrl('/search', {}), '/search');
});
