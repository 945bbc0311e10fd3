import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as dates from '../src/dates.js';
import { commentNotification } from '../src/notify.js';
import { reminder } from '../src/reminders.js';
import * as strings from '../src/strings.js';

const root = new URL('../', import.meta.url);
const self = new URL(import.meta.url).pathname.split('/').pop();

test('the string helpers live in src/strings.js and behave as before', () => {
  assert.equal(strings.capitalize('linus'), 'Linus');
  assert.equal(strings.capitalize(''), '');
  assert.equal(strings.truncate('abcdefghij', 5), 'abcd…');
  assert.equal(strings.truncate('abc', 5), 'abc');
  assert.equal(strings.pluralize(0, 'file'), '0 files');
  assert.equal(strings.pluralize(1, 'child', 'children'), '1 child');
});

test('the date helpers live in src/dates.js and behave as before', () => {
  assert.equal(dates.formatDate(new Date(Date.UTC(2023, 11, 31, 12))), '2023-12-31');
  assert.equal(dates.daysBetween(new Date('2024-01-10'), new Date('2024-01-03')), -7);
});

test('each helper has one home', () => {
  assert.deepEqual(Object.keys(strings).sort(), ['capitalize', 'pluralize', 'truncate']);
  assert.deepEqual(Object.keys(dates).sort(), ['daysBetween', 'formatDate']);
});

test('src/helpers.js is gone and nothing imports it', () => {
  assert.equal(existsSync(new URL('src/helpers.js', root)), false);
  for (const dir of ['src', 'test']) {
    for (const name of readdirSync(new URL(`${dir}/`, root))) {
      if (!name.endsWith('.js') || name === self) continue;
      const source = readFileSync(new URL(`${dir}/${name}`, root), 'utf8');
      assert.doesNotMatch(source, /helpers\.js/, `${dir}/${name} still refers to helpers.js`);
    }
  }
});

test('callers behave as before', () => {
  assert.equal(
    commentNotification('ada', 'A rather long thread title about things', 1),
    'Ada left 1 comment on "A rather long thread title ab…"',
  );
  assert.equal(reminder('Rent', new Date('2024-06-02'), new Date('2024-06-01')), 'Rent is due in 1 day (2024-06-02)');
});
