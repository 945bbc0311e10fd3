import { LRUCache } from './lru-cache.js';

/** Wraps `fetchAvatar(userId)` so the last `size` avatars are kept in memory. */
export function cachedAvatars(fetchAvatar, size = 100) {
  const cache = new LRUCache(size);
  return async (userId) => {
    if (cache.has(userId)) return cache.get(userId);
    const avatar = await fetchAvatar(userId);
    cache.set(userId, avatar);
    return avatar;
  };
}
