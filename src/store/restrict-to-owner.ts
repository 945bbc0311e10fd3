import { chmodSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Makes a directory tree private to its owner: directories 0700, files 0600 (symlinks are left
 * alone). PGlite writes its initial cluster with mode 0666 whatever the umask, and PostgreSQL
 * writes a few files (relcache init files) with the process umask later; the 0700 directories are
 * what keeps those unreachable for other users in between.
 */
export function restrictToOwner(dir: string): void {
  chmodSync(dir, 0o700);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) restrictToOwner(path);
    else if (entry.isFile()) chmodSync(path, 0o600);
  }
}
