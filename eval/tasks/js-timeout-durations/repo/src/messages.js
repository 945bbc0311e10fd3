'use strict';

const ms = require('ms');

/** The message printed when every attempt failed. */
function gaveUpMessage(url, elapsedMs, attempts) {
  return `gave up on ${url} after ${ms(elapsedMs, { long: true })} (${attempts} attempts)`;
}

module.exports = { gaveUpMessage };
