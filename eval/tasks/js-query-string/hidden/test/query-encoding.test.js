import assert from 'node:assert/strict';
import { test } from 'node:test';
import { searchUrl, toQueryString } from '../src/query.js';

test('values and keys are percent-encoded', () => {
  assert.equal(toQueryString({ q: 'salt & pepper' }), 'q=salt%20%26%20pepper');
  assert.equal(toQueryString({ 'sort by': 'price=asc' }), 'sort%20by=price%3Dasc');
  assert.equal(toQueryString({ q: 'café/100%' }), 'q=caf%C3%A9%2F100%25');
});

test('null and undefined values are left out', () => {
  assert.equal(toQueryString({ q: 'tea', page: undefined, size: null, sort: 'new' }), 'q=tea&sort=new');
  assert.equal(toQueryString({ page: undefined }), '');
});

test('falsy values that are set are kept', () => {
  assert.equal(toQueryString({ page: 0, inStock: false, q: '' }), 'page=0&inStock=false&q=');
});

test('arrays repeat the key, in order', () => {
  assert.equal(toQueryString({ tag: ['green', 'black tea'], q: 'x' }), 'tag=green&tag=black%20tea&q=x');
  assert.equal(toQueryString({ tag: [], q: 'x' }), 'q=x');
});

test('the search URL', () => {
  assert.equal(searchUrl('/search', { q: 'a&b', tag: ['x', 'y'] }), '/search?q=a%26b&tag=x&tag=y');
  assert.equal(searchUrl('/search', { q: undefined }), '/search');
});
