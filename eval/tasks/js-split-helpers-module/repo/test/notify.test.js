import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commentNotification } from '../src/notify.js';
import { reminder } from '../src/reminders.js';

test('comment notification', () => {
  assert.equal(commentNotification('grace', 'Release plan', 2), 'Grace left 2 comments on "Release plan"');
});

test('reminders', () => {
  const today = new Date('2024-05-10');
  assert.equal(reminder('Taxes', new Date('2024-05-12'), today), 'Taxes is due in 2 days (2024-05-12)');
  assert.equal(reminder('Taxes', new Date('2024-05-10'), today), 'Taxes is due today');
  assert.equal(reminder('Taxes', new Date('2024-05-01'), today), 'Taxes was due on 2024-05-01');
});
