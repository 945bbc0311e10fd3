/**
 * Turns a post title into the slug used in its URL: lower-case ASCII letters and digits,
 * words joined by dashes.
 */
export function slugify(title) {
  return title.toLowerCase().replace(/[^a-z0-9]/g, '-');
}
