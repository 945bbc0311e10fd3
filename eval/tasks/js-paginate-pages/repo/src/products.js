'use strict';

const { paginate } = require('./paginate');

/** The `/products` handler's logic: query string in, response body out. */
function listProducts(products, query) {
  const page = Number.parseInt(query.page ?? '1', 10);
  const perPage = Number.parseInt(query.perPage ?? '10', 10);
  return paginate(products, Number.isNaN(page) ? 1 : page, Number.isNaN(perPage) ? 10 : perPage);
}

module.exports = { listProducts };
