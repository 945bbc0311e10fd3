import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LRUCache } from '../src/lru-cache.js';

test('stores and returns values', () => {
  const cache = new LRUCache(2);
  cache.set('a', 1).set('b', 2);
  assert.equal(cache.get('a'), 1);
  assert.equal(cache.get('b'), 2);
  assert.equal(cache.get('c'), undefined);
});

test('evicts the oldest entry when full', () => {
  const cache = new LRUCache(2);
  cache.set('a', 1).set('b', 2).set('c', 3);
  assert.equal(cache.has('a'), false);
  assert.deepEqual(cache.keys(), ['b', 'c']);
});

test('get marks an entry as recently used', () => {
  const cache = new LRUCache(2);
  cache.set('a', 1).set('b', 2);
  cache.get('a');
  cache.set('c', 3);
  assert.equal(cache.get('a'), 1);
  assert.equal(cache.has('b'), false);
});

test('refuses a capacity below one', () => {
  assert.throws(() => new LRUCache(0), RangeError);
});
