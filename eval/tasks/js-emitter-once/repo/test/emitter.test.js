import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Connection } from '../src/connection.js';
import { Emitter } from '../src/emitter.js';

test('on listeners get the emitted arguments, in order', () => {
  const calls = [];
  const e = new Emitter();
  e.on('x', (a, b) => calls.push(['first', a, b])).on('x', (a) => calls.push(['second', a]));
  assert.equal(e.emit('x', 1, 2), true);
  assert.deepEqual(calls, [
    ['first', 1, 2],
    ['second', 1],
  ]);
});

test('off removes a listener', () => {
  const e = new Emitter();
  const listener = () => assert.fail('should not run');
  e.on('x', listener).off('x', listener);
  assert.equal(e.emit('x'), false);
});

test('whenReady resolves on open', async () => {
  const c = new Connection();
  const ready = c.whenReady();
  c.open();
  assert.equal(typeof (await ready).at, 'number');
  assert.equal(c.listenerCount('ready'), 0);
});
