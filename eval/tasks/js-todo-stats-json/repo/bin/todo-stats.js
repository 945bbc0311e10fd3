#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { countItems, describe } from '../src/count.js';

const file = process.argv[2];
if (!file) {
  console.error('usage: todo-stats FILE');
  process.exit(2);
}
const counts = countItems(readFileSync(file, 'utf8'));
console.log(describe(file, counts));
