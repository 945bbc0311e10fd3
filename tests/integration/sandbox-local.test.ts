import { runSandboxContract } from '../../sandbox/contract.js';
import { startLocalHarness } from '../helpers/sandbox-harness.js';

const OUTPUT_LIMIT = 64 * 1024;

runSandboxContract('local (bubblewrap)', () => startLocalHarness({ outputLimit: OUTPUT_LIMIT }), {
  outputLimit: OUTPUT_LIMIT,
});
