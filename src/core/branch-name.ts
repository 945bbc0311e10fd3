/**
 * The branch devbot pushes a task to: `devbot/<issue-number-or-task-id>-<slug>`. The slug comes
 * from the title so people can tell branches apart; it is ASCII, lower case and short, so it is a
 * valid ref name whatever the title holds.
 */
const MAX_SLUG = 40;

export function slugify(title: string): string {
  const slug = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (slug.length <= MAX_SLUG) return slug;
  // Cut at a word boundary when there is one in the second half, so the slug does not end mid-word.
  const cut = slug.slice(0, MAX_SLUG);
  const lastDash = cut.lastIndexOf('-');
  return (lastDash > MAX_SLUG / 2 ? cut.slice(0, lastDash) : cut).replace(/-+$/, '');
}

export function branchName(ref: number | string, title: string): string {
  const id = String(ref)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const slug = slugify(title);
  return `devbot/${id || 'task'}${slug ? `-${slug}` : ''}`;
}
