import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { APP_PERMISSIONS, HANDLED_EVENTS } from '../../src/github/github-app.js';
import { webhookEventNames } from '../fakes/github/webhook-payloads.js';

const manifest = parse(readFileSync(new URL('../../app.yml', import.meta.url), 'utf8')) as {
  default_permissions: Record<string, string>;
  default_events: string[];
};

describe('app.yml', () => {
  it('subscribes to exactly the events devbot handles', () => {
    const handled = [...new Set(HANDLED_EVENTS.map((e) => e.split('.')[0]))].sort();
    expect([...manifest.default_events].sort()).toEqual(handled);
    // Each is an event GitHub really delivers.
    for (const e of manifest.default_events) expect(webhookEventNames()).toContain(e);
  });

  it('asks for exactly the permissions devbot uses', () => {
    expect(manifest.default_permissions).toEqual(APP_PERMISSIONS);
    // What the CI loop needs to read: Actions logs and other CI's check suites.
    expect(manifest.default_permissions['actions']).toBe('read');
    expect(['read', 'write']).toContain(manifest.default_permissions['checks']);
  });
});
