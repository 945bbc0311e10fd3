import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cachedAvatars } from '../src/avatars.js';
import { LRUCache } from '../src/lru-cache.js';

test('a read entry survives the next eviction', () => {
  const cache = new LRUCache(2);
  cache.set('a', 1).set('b', 2);
  assert.equal(cache.get('a'), 1);
  cache.set('c', 3);
  assert.equal(cache.get('a'), 1);
  assert.equal(cache.has('b'), false);
  assert.deepEqual(cache.keys(), ['c', 'a']);
});

test('overwriting a key updates it, counts as a use and evicts nothing', () => {
  const cache = new LRUCache(3);
  cache.set('a', 1).set('b', 2).set('c', 3);
  cache.set('a', 10);
  assert.equal(cache.size, 3);
  assert.deepEqual(cache.keys(), ['b', 'c', 'a']);
  cache.set('d', 4);
  assert.deepEqual(cache.keys(), ['c', 'a', 'd']);
  assert.equal(cache.get('a'), 10);
});

test('reading a missing key changes nothing', () => {
  const cache = new LRUCache(2);
  cache.set('a', 1).set('b', 2);
  assert.equal(cache.get('zzz'), undefined);
  assert.deepEqual(cache.keys(), ['a', 'b']);
});

test('a falsy value still counts as present', () => {
  const cache = new LRUCache(2);
  cache.set('zero', 0).set('b', 2);
  assert.equal(cache.get('zero'), 0);
  cache.set('c', 3);
  assert.equal(cache.has('zero'), true);
  assert.equal(cache.has('b'), false);
});

test('capacity one', () => {
  const cache = new LRUCache(1);
  cache.set('a', 1).set('b', 2);
  assert.deepEqual(cache.keys(), ['b']);
});

test('the avatar cache keeps frequently read avatars', async () => {
  const fetched = [];
  const avatar = cachedAvatars(async (id) => {
    fetched.push(id);
    return `img-${id}`;
  }, 2);
  await avatar('u1');
  await avatar('u2');
  await avatar('u1');
  await avatar('u3');
  assert.equal(await avatar('u1'), 'img-u1');
  assert.deepEqual(fetched, ['u1', 'u2', 'u3']);
});
