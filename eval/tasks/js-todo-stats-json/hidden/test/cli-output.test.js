import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/todo-stats.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'todo-stats-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'TODO.md');
writeFileSync(file, '- [ ] a\n- [x] b\n- [ ] c\n  - [x] d\n- [ ] e\n');

const run = (...args) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 10_000 });

test('--json before the file prints only the counts as JSON', () => {
  const r = run('--json', file);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { open: 3, done: 2, total: 5 });
});

test('--json after the file works too', () => {
  const r = run(file, '--json');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { open: 3, done: 2, total: 5 });
});

test('without --json the output is unchanged', () => {
  const r = run(file);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `${file}: 3 open, 2 done (40% done)\n`);
});

test('a missing file is reported without a stack trace, exit 2', () => {
  const missing = join(dir, 'nope.md');
  for (const args of [[missing], ['--json', missing]]) {
    const r = run(...args);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim(), `todo-stats: cannot read ${missing}`);
  }
});

test('an empty file', () => {
  const empty = join(dir, 'EMPTY.md');
  writeFileSync(empty, '');
  assert.deepEqual(JSON.parse(run('--json', empty).stdout), { open: 0, done: 0, total: 0 });
});
