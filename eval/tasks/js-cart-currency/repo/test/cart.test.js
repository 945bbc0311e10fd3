import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Cart } from '../src/cart.js';
import { formatMoney } from '../src/money.js';

test('formats cents as dollars', () => {
  assert.equal(formatMoney(1250), '$12.50');
  assert.equal(formatMoney(5), '$0.05');
  assert.equal(formatMoney(-300), '-$3.00');
});

test('sums lines and quantities', () => {
  const cart = new Cart().add('mug', { priceCents: 850, quantity: 2 }).add('tea', { priceCents: 399 });
  assert.equal(cart.totalCents(), 2099);
  assert.equal(cart.summary(), '3 items, total $20.99');
});
