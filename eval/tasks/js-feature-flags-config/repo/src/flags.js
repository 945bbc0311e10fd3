import { existsSync, readFileSync } from 'node:fs';

const CONFIG_DIR = new URL('../config/', import.meta.url);

function readJson(name) {
  const url = new URL(name, CONFIG_DIR);
  return existsSync(url) ? JSON.parse(readFileSync(url, 'utf8')) : {};
}

/** The flags in force for `env`: the defaults with the environment's overrides on top. */
export function loadFlags(env = process.env.NODE_ENV ?? 'development') {
  const defaults = readJson('flags.json');
  const overrides = readJson(`flags.${env}.json`);
  for (const name of Object.keys(overrides)) {
    if (!(name in defaults)) throw new Error(`flags.${env}.json overrides unknown flag ${name}`);
  }
  return { ...defaults, ...overrides };
}

export function isEnabled(name, env) {
  const flags = loadFlags(env);
  if (!(name in flags)) throw new Error(`unknown feature flag: ${name}`);
  return flags[name];
}
