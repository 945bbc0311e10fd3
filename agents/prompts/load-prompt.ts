import { readFileSync } from 'node:fs';

const cache = new Map<string, string>();

/** Reads agents/prompts/<name>.md once; `{{key}}` placeholders are filled from `vars`. */
export function loadPrompt(name: string, vars: Record<string, string> = {}): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(new URL(`./${name}.md`, import.meta.url), 'utf8').trim();
    cache.set(name, text);
  }
  return text.replace(/\{\{(\w+)\}\}/g, (_, key: string) => vars[key] ?? '');
}
