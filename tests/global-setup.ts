import { ensurePgliteTemplate } from './helpers/pglite-template.js';

/** Builds the migrated PGlite template once per run, before any test file opens a copy. */
export default async function setup(): Promise<void> {
  await ensurePgliteTemplate();
}
