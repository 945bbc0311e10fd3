'use strict';

/** One page of `items` for the listing endpoints; see README.md. */
function paginate(items, page, perPage = 10) {
  const totalPages = Math.floor(items.length / perPage);
  const start = page * perPage;
  return {
    page,
    perPage,
    totalPages,
    items: items.slice(start, start + perPage),
  };
}

module.exports = { paginate };
