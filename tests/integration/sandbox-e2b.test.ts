/**
 * The shared Sandbox contract against real E2B. Runs only with E2B_API_KEY set (it needs the
 * network and an account); otherwise vitest reports the suite as skipped.
 */
import { runSandboxContract } from '../../sandbox/contract.js';
import { E2BSandboxProvider } from '../../sandbox/e2b/e2b-sandbox-provider.js';

const apiKey = process.env['E2B_API_KEY'];
const OUTPUT_LIMIT = 64 * 1024;

runSandboxContract(
  'e2b',
  async () => {
    const provider = new E2BSandboxProvider({
      apiKey: apiKey ?? '',
      outputLimit: OUTPUT_LIMIT,
      timeoutMs: 5 * 60_000,
      ...(process.env['E2B_TEMPLATE'] ? { template: process.env['E2B_TEMPLATE'] } : {}),
    });
    return {
      provider,
      async fetchPreview(url: string) {
        const res = await fetch(url);
        return { status: res.status, body: await res.text() };
      },
      close: () => provider.close(),
    };
  },
  { outputLimit: OUTPUT_LIMIT, slowMs: 30_000, skip: !apiKey },
);
