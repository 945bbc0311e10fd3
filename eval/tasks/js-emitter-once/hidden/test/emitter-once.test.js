import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Connection } from '../src/connection.js';
import { Emitter } from '../src/emitter.js';

test('a once listener runs for the next emit only, with its arguments', () => {
  const calls = [];
  const e = new Emitter();
  e.once('tick', (...args) => calls.push(args));
  e.emit('tick', 1, 'a');
  e.emit('tick', 2, 'b');
  assert.deepEqual(calls, [[1, 'a']]);
  assert.equal(e.listenerCount('tick'), 0);
});

test('once returns the emitter for chaining', () => {
  const e = new Emitter();
  assert.equal(
    e.once('a', () => {}),
    e,
  );
});

test('off with the original listener removes a once listener before it fires', () => {
  const e = new Emitter();
  const listener = () => assert.fail('should not run');
  e.once('tick', listener);
  e.off('tick', listener);
  assert.equal(e.listenerCount('tick'), 0);
  e.emit('tick');
});

test('once and on listeners keep their order and the on listener stays', () => {
  const calls = [];
  const e = new Emitter();
  e.on('x', () => calls.push('on-1'));
  e.once('x', () => calls.push('once'));
  e.on('x', () => calls.push('on-2'));
  e.emit('x');
  e.emit('x');
  assert.deepEqual(calls, ['on-1', 'once', 'on-2', 'on-1', 'on-2']);
});

test('connection.whenReady uses once', async () => {
  const source = readFileSync(new URL('../src/connection.js', import.meta.url), 'utf8');
  assert.match(source, /\.once\(\s*['"]ready['"]/);
  const c = new Connection();
  const ready = c.whenReady();
  c.open();
  await ready;
  assert.equal(c.listenerCount('ready'), 0);
});
