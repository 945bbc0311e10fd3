import { daysBetween, formatDate, pluralize } from './helpers.js';

/** The reminder text for a task due on `due`, as seen on `today`. */
export function reminder(task, due, today) {
  const days = daysBetween(today, due);
  if (days < 0) return `${task} was due on ${formatDate(due)}`;
  if (days === 0) return `${task} is due today`;
  return `${task} is due in ${pluralize(days, 'day')} (${formatDate(due)})`;
}
