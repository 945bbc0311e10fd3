import assert from 'node:assert/strict';
import { test } from 'node:test';
import { slugify } from '../src/slugify.js';

test('punctuation between words leaves one dash', () => {
  assert.equal(slugify('Hello, World!'), 'hello-world');
  assert.equal(slugify('C++ & Rust: the 2024 edition'), 'c-rust-the-2024-edition');
});

test('no dash at the start or the end', () => {
  assert.equal(slugify('  Release notes  '), 'release-notes');
  assert.equal(slugify('--Already--Dashed--'), 'already-dashed');
  assert.equal(slugify('(draft) Plans?'), 'draft-plans');
});

test('a title with nothing sluggable gives an empty slug', () => {
  assert.equal(slugify('!!!'), '');
  assert.equal(slugify(''), '');
});

test('plain titles keep their slug', () => {
  assert.equal(slugify('Hello World'), 'hello-world');
  assert.equal(slugify('one two three'), 'one-two-three');
});
