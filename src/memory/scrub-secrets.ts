/**
 * Secrets must never be stored as memories. The runtime's SecretRegistry masks every secret devbot
 * knows by value; these patterns catch well-known token shapes that came from elsewhere (a key
 * pasted into a chat, a token echoed by a test command).
 */
const PATTERNS: readonly RegExp[] = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  /\bgh[pousr]_[A-Za-z0-9]{30,}\b/g,
  /\bgithub_pat_[A-Za-z0-9_]{30,}\b/g,
  /\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}\b/g,
  /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/g,
  /\bAKIA[0-9A-Z]{16}\b/g,
  /\b\d{6,12}:[A-Za-z0-9_-]{30,}\b/g,
  /\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b/g,
];

export function scrubSecrets(text: string): string {
  let out = text;
  for (const pattern of PATTERNS) out = out.replace(pattern, '[redacted]');
  // Credentials inside URLs (https://user:token@host) and bearer headers keep their shape.
  out = out.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/:@]+:[^\s/@]+@/gi, '$1[redacted]@');
  out = out.replace(/\b(Bearer|token)\s+[A-Za-z0-9._~+/-]{16,}=*/gi, '$1 [redacted]');
  return out;
}
