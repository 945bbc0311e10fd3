/** Secrets shorter than this are not masked by value (too likely to hit ordinary text). */
const MIN_SECRET_LENGTH = 8;

/**
 * Replaces every occurrence of each known secret value with a mask: as written, as it appears
 * inside a JSON string (log lines and events are JSON, so a PEM key's newlines are `\n` there),
 * and URL-encoded (a password inside a connection URL). Longest first, so a secret that contains
 * another is masked whole rather than leaving its ends behind.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_LENGTH) continue;
    forms.add(secret);
    forms.add(JSON.stringify(secret).slice(1, -1));
    forms.add(encodeURIComponent(secret));
  }
  for (const form of [...forms].sort((a, b) => b.length - a.length)) {
    if (out.includes(form)) out = out.split(form).join('[redacted]');
  }
  return out;
}

/** A registry of live secret values (config secrets, installation tokens as they are minted). */
export class SecretRegistry {
  readonly #values = new Set<string>();
  add(value: string | undefined | null): void {
    if (value && value.length >= MIN_SECRET_LENGTH) this.#values.add(value);
  }
  values(): readonly string[] {
    return [...this.#values];
  }
  redact(text: string): string {
    return redactSecrets(text, this.values());
  }
  /** Redacts strings anywhere inside a JSON-compatible value. */
  redactDeep<T>(value: T): T {
    if (this.#values.size === 0) return value;
    return JSON.parse(this.redact(JSON.stringify(value))) as T;
  }
}
