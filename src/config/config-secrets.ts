import type { Config } from './config.js';

/**
 * Every secret value in the configuration: tokens, keys and the passwords inside connection
 * URLs. Logs, events, reports and prompts are masked with these.
 */
export function configSecrets(config: Config): string[] {
  const values = [
    config.TELEGRAM_BOT_TOKEN,
    config.TELEGRAM_WEBHOOK_SECRET,
    config.GITHUB_PRIVATE_KEY,
    config.GITHUB_WEBHOOK_SECRET,
    config.GITHUB_TOKEN,
    config.GITHUB_CLIENT_SECRET,
    config.OPENAI_API_KEY,
    config.E2B_API_KEY,
    config.DEVBOT_JWT_SECRET,
    config.DEVBOT_METRICS_TOKEN,
    urlPassword(config.DATABASE_URL),
    urlPassword(config.redisUrl),
  ];
  return values.filter((v): v is string => typeof v === 'string' && v.length > 0);
}

function urlPassword(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const password = new URL(url).password;
    return password ? decodeURIComponent(password) : undefined;
  } catch {
    return undefined;
  }
}
