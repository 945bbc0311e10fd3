import { capitalize, pluralize, truncate } from './helpers.js';

/** The one-line notification shown for new comments on a thread. */
export function commentNotification(author, threadTitle, count) {
  return `${capitalize(author)} left ${pluralize(count, 'comment')} on "${truncate(threadTitle, 30)}"`;
}
