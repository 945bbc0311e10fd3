/** Builds the query part of a URL (without the leading `?`) from an object of parameters. */
export function toQueryString(params) {
  return Object.entries(params)
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
}

/** The full URL of the search page for the given options. */
export function searchUrl(base, options) {
  const query = toQueryString(options);
  return query === '' ? base : `${base}?${query}`;
}
