import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toContacts } from '../src/contacts.js';
import { parseCsv } from '../src/csv.js';

test('splits plain rows and fields', () => {
  assert.deepEqual(parseCsv('a,b,c\n1,2,3\n'), [
    ['a', 'b', 'c'],
    ['1', '2', '3'],
  ]);
});

test('keeps empty fields', () => {
  assert.deepEqual(parseCsv('a,,c'), [['a', '', 'c']]);
});

test('maps rows to contacts by header', () => {
  assert.deepEqual(toContacts('name,email\nAda,ada@example.com\n'), [{ name: 'Ada', email: 'ada@example.com' }]);
});
