import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Cart } from '../src/cart.js';
import { formatMoney } from '../src/money.js';

test('formatMoney takes a currency code', () => {
  assert.equal(formatMoney(1250, 'EUR'), '€12.50');
  assert.equal(formatMoney(1250, 'GBP'), '£12.50');
  assert.equal(formatMoney(1250, 'USD'), '$12.50');
  assert.equal(formatMoney(7), '$0.07');
});

test('a cart shows totals in its currency', () => {
  const eur = new Cart({ currency: 'EUR' }).add('mug', { priceCents: 850, quantity: 2 });
  assert.equal(eur.summary(), '2 items, total €17.00');
  const gbp = new Cart({ currency: 'GBP' }).add('tea', { priceCents: 399 });
  assert.equal(gbp.summary(), '1 item, total £3.99');
});

test('dollars stay the default', () => {
  assert.equal(new Cart().add('tea', { priceCents: 399 }).summary(), '1 item, total $3.99');
  assert.equal(new Cart({}).add('tea', { priceCents: 100 }).summary(), '1 item, total $1.00');
});

test('an unsupported currency is refused when the cart is created', () => {
  assert.throws(() => new Cart({ currency: 'XYZ' }));
});
