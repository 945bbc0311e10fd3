import assert from 'node:assert/strict';
import { test } from 'node:test';
import { capitalize, daysBetween, formatDate, pluralize, truncate } from '../src/helpers.js';

test('capitalize', () => {
  assert.equal(capitalize('ada'), 'Ada');
  assert.equal(capitalize(''), '');
});

test('truncate', () => {
  assert.equal(truncate('short', 10), 'short');
  assert.equal(truncate('a long thread title', 7), 'a long…');
});

test('pluralize', () => {
  assert.equal(pluralize(1, 'day'), '1 day');
  assert.equal(pluralize(3, 'reply', 'replies'), '3 replies');
});

test('dates', () => {
  assert.equal(formatDate(new Date(Date.UTC(2024, 1, 29, 23, 0))), '2024-02-29');
  assert.equal(daysBetween(new Date('2024-03-01'), new Date('2024-03-04')), 3);
});
