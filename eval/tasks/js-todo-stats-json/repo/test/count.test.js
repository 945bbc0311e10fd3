import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countItems, describe } from '../src/count.js';

test('counts open and done items, indented or not', () => {
  const text = '# Plan\n- [ ] write\n  - [x] read\n- [X] sleep\n- not an item\n';
  assert.deepEqual(countItems(text), { open: 1, done: 2 });
});

test('describes the counts', () => {
  assert.equal(describe('TODO.md', { open: 3, done: 2 }), 'TODO.md: 3 open, 2 done (40% done)');
  assert.equal(describe('empty.md', { open: 0, done: 0 }), 'empty.md: 0 open, 0 done (0% done)');
});
