'use strict';

const assert = require('node:assert/strict');
const { test } = require('node:test');
const { paginate } = require('../src/paginate');
const { listProducts } = require('../src/products');

const range = (n) => Array.from({ length: n }, (_, i) => i + 1);

test('page 1 is the first page', () => {
  assert.deepEqual(paginate(range(25), 1).items, range(10));
  assert.deepEqual(paginate(range(25), 2).items, range(20).slice(10));
});

test('the last, partial page is counted and reachable', () => {
  const last = paginate(range(25), 3);
  assert.equal(last.totalPages, 3);
  assert.deepEqual(last.items, [21, 22, 23, 24, 25]);
  assert.equal(paginate(range(20), 1).totalPages, 2);
  assert.equal(paginate(range(7), 1, 3).totalPages, 3);
});

test('a page past the end is empty', () => {
  assert.deepEqual(paginate(range(25), 4).items, []);
});

test('page 0 and negative pages are page 1', () => {
  assert.deepEqual(paginate(range(25), 0).items, range(10));
  assert.deepEqual(paginate(range(25), -3).items, range(10));
  assert.deepEqual(paginate(range(25), 0).page, 1);
});

test('the endpoint returns the first products for ?page=1', () => {
  const products = range(12).map((n) => ({ id: n }));
  const body = listProducts(products, { page: '1', perPage: '5' });
  assert.deepEqual(
    body.items.map((p) => p.id),
    [1, 2, 3, 4, 5],
  );
  assert.equal(body.totalPages, 3);
});
