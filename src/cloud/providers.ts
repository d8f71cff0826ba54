/** A configured cloud provider, ready to call: the wire client for its kind, behind a circuit breaker, behind retries. */
import type { Dispatcher } from "undici";
import { AnthropicProvider } from "./anthropicProvider.js";
import { CircuitBreaker, withBreaker } from "./circuitBreaker.js";
import { OpenAIProvider } from "./openaiProvider.js";
import { withRetry, type RetryDeps } from "./retry.js";
import { createAgent, Transport } from "./transport.js";
import { ProviderConfig, type CloudProvider, type ProviderConfigInput } from "./types.js";

const DEFAULT_KEY_ENV = { openai: "OPENAI_API_KEY", anthropic: "ANTHROPIC_API_KEY" } as const;

export interface ProviderDeps extends RetryDeps {
  /** Carries the requests; an Agent with the configured timeouts when absent (closed by `close()`). */
  dispatcher?: Dispatcher;
  env?: NodeJS.ProcessEnv;
  /** Wall clock: the breaker's timing and Retry-After dates. */
  now?: () => number;
}

export interface ConfiguredProvider {
  provider: CloudProvider;
  breaker: CircuitBreaker;
  /** Closes the connections of the Agent made here; an injected dispatcher is its owner's to close. */
  close(): Promise<void>;
}

export function createProvider(input: ProviderConfigInput, deps: ProviderDeps = {}): ConfiguredProvider {
  const config = ProviderConfig.parse(input);
  const now = deps.now ?? Date.now;
  // no key is allowed: a local OpenAI-compatible server may want none, and then no auth header is sent
  const apiKey = config.apiKey ?? ((deps.env ?? process.env)[config.apiKeyEnv ?? DEFAULT_KEY_ENV[config.kind]] || undefined);
  const agent = deps.dispatcher ? undefined : createAgent(config);
  const transport = new Transport({
    provider: config.id,
    dispatcher: deps.dispatcher ?? agent!,
    firstByteTimeoutMs: config.firstByteTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
    secret: apiKey,
    now,
  });
  const { id, baseUrl, model, anthropicVersion } = config;
  const base =
    config.kind === "openai"
      ? new OpenAIProvider({ id, baseUrl, model, apiKey, transport })
      : new AnthropicProvider({ id, baseUrl, model, apiKey, anthropicVersion, transport });
  const breaker = new CircuitBreaker({ ...config.breaker, now });
  // Retry outside the breaker: every attempt is one call the breaker counts, and once it opens mid-retry the next
  // attempt fails fast with "breaker_open" (not retryable), so the caller moves on to the next provider at once.
  const provider = withRetry(withBreaker(base, breaker), config.retry, deps);
  return { provider, breaker, close: async () => agent?.close() };
}
