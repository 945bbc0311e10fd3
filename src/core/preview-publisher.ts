/**
 * How a provider makes a sandbox port public. The local provider hands the gateway a Unix socket
 * (the preview proxy serves it under `/preview/<token>/`); E2B returns its own https host instead.
 * Implemented by src/gateway/preview-registry.ts; kept here as a port so providers import no gateway.
 */
export interface PreviewTarget {
  sandboxId: string;
  port: number;
  /** Host path of a Unix socket that forwards to the port inside the sandbox. */
  socketPath: string;
}

export interface PreviewPublisher {
  /** Registers the target and returns its public URL (ending with `/`), once it is servable. */
  publish(target: PreviewTarget): string | Promise<string>;
  /** Forgets every preview of a sandbox (it is closing). */
  unpublishSandbox(sandboxId: string): void;
}
