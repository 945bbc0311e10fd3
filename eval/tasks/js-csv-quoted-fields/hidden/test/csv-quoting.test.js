import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toContacts } from '../src/contacts.js';
import { parseCsv } from '../src/csv.js';

test('a quoted field keeps its commas', () => {
  assert.deepEqual(parseCsv('"Smith, Jane",jane@example.com\n'), [['Smith, Jane', 'jane@example.com']]);
});

test('doubled quotes inside a quoted field are one quote', () => {
  assert.deepEqual(parseCsv('"Says ""hi"" a lot",x'), [['Says "hi" a lot', 'x']]);
  assert.deepEqual(parseCsv('""""'), [['"']]);
});

test('an empty quoted field is an empty string', () => {
  assert.deepEqual(parseCsv('a,"",c'), [['a', '', 'c']]);
});

test('a quoted field may span lines', () => {
  assert.deepEqual(parseCsv('note,id\n"line one\nline two",7\n'), [
    ['note', 'id'],
    ['line one\nline two', '7'],
  ]);
});

test('Windows line endings', () => {
  assert.deepEqual(parseCsv('a,b\r\n1,"x, y"\r\n'), [
    ['a', 'b'],
    ['1', 'x, y'],
  ]);
});

test('a trailing line break adds no row; a missing one loses none', () => {
  assert.deepEqual(parseCsv('a,b\n1,2'), [
    ['a', 'b'],
    ['1', '2'],
  ]);
  assert.equal(parseCsv('a,b\n1,2\n').length, 2);
});

test('the CRM row from the bug report', () => {
  const text = 'name,email,note\n"Smith, Jane",jane@example.com,"Says ""hi"" a lot"\n';
  assert.deepEqual(toContacts(text), [{ name: 'Smith, Jane', email: 'jane@example.com', note: 'Says "hi" a lot' }]);
});
