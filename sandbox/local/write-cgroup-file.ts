import { writeFile } from 'node:fs/promises';

/**
 * Writes an existing cgroup control file. Never creates one (cgroupfs refuses that with a less
 * clear error), so a file this kernel does not have fails with ENOENT.
 */
export function writeCgroupFile(path: string, value: string): Promise<void> {
  return writeFile(path, value, { flag: 'r+' });
}
