import { formatMoney } from './money.js';

export class Cart {
  #lines = new Map();

  add(sku, { priceCents, quantity = 1 }) {
    const line = this.#lines.get(sku);
    if (line) line.quantity += quantity;
    else this.#lines.set(sku, { priceCents, quantity });
    return this;
  }

  itemCount() {
    let n = 0;
    for (const line of this.#lines.values()) n += line.quantity;
    return n;
  }

  totalCents() {
    let total = 0;
    for (const line of this.#lines.values()) total += line.priceCents * line.quantity;
    return total;
  }

  summary() {
    const n = this.itemCount();
    return `${n} ${n === 1 ? 'item' : 'items'}, total ${formatMoney(this.totalCents())}`;
  }
}
