/**
 * Rough list prices in USD per million tokens, for the cost estimate and the cost budget. Unknown
 * models (local servers, proxies) are priced like a mid-range hosted model so the cost budget still
 * bounds a runaway loop; the estimate is labelled as such wherever it is shown.
 */
const PRICES: Record<string, { in: number; out: number }> = {
  'gpt-4o-mini': { in: 0.15, out: 0.6 },
  'gpt-4o': { in: 2.5, out: 10 },
  'gpt-4.1': { in: 2, out: 8 },
  'gpt-4.1-mini': { in: 0.4, out: 1.6 },
  'gpt-4.1-nano': { in: 0.1, out: 0.4 },
  'gpt-5': { in: 1.25, out: 10 },
  'gpt-5-mini': { in: 0.25, out: 2 },
  'gpt-5-nano': { in: 0.05, out: 0.4 },
  'o4-mini': { in: 1.1, out: 4.4 },
};
const FALLBACK = { in: 1, out: 3 };

export function estimateCostUsd(model: string, tokensIn: number, tokensOut: number): number {
  const key = Object.keys(PRICES)
    .filter((name) => model === name || model.startsWith(`${name}-`) || model.endsWith(`/${name}`))
    .sort((a, b) => b.length - a.length)[0];
  const price = (key ? PRICES[key] : undefined) ?? FALLBACK;
  return (tokensIn * price.in + tokensOut * price.out) / 1_000_000;
}
