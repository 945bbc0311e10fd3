'use strict';

const assert = require('node:assert/strict');
const { test } = require('node:test');
const { paginate } = require('../src/paginate');

test('reports the page size it used', () => {
  assert.equal(paginate([1, 2, 3], 1, 2).perPage, 2);
  assert.equal(paginate([1, 2, 3], 1).perPage, 10);
});

test('an empty list has no items', () => {
  assert.deepEqual(paginate([], 1).items, []);
});
