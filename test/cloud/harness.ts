/** A provider made by createProvider against a fresh fake cloud, with recorded retry sleeps and a settable clock. */
import type { TestContext } from "node:test";
import { createProvider } from "../../src/cloud/providers.js";
import type { CloudChatRequest, CloudEvent, ProviderConfigInput } from "../../src/cloud/types.js";
import { startFakeCloud, type FakeCloudOptions } from "../fakeCloud/fakeCloud.js";

export const KEY = "sk-test-4f9a2c7e1b8d3f60";

export interface SetupOptions {
  kind?: "openai" | "anthropic";
  config?: Partial<ProviderConfigInput>;
  fake?: FakeCloudOptions;
}

export async function setup(t: TestContext, { kind = "openai", config = {}, fake: fakeOptions = {} }: SetupOptions = {}) {
  const fake = await startFakeCloud({ apiKey: KEY, ...fakeOptions });
  const sleeps: number[] = [];
  const clock = { now: 1_000_000 };
  const made = createProvider(
    { id: `fake-${kind}`, kind, baseUrl: kind === "openai" ? fake.openaiBaseUrl : fake.anthropicBaseUrl, model: "cloud-model", apiKey: KEY, ...config },
    { env: {}, sleep: async (ms) => void sleeps.push(ms), random: () => 0.5, now: () => clock.now },
  );
  t.after(async () => {
    await made.close();
    await fake.stop();
  });
  return { fake, sleeps, clock, ...made };
}

export const ask = (content: string, extra: Partial<CloudChatRequest> = {}): CloudChatRequest => ({ messages: [{ role: "user", content }], max_tokens: 64, ...extra });

/** The text of a stream, its tool calls with their arguments reassembled, its fragments per call, and its done event (undefined if it never came). */
export async function collect(events: AsyncIterable<CloudEvent>) {
  let text = "";
  const calls: { id: string; name: string; arguments: string; fragments: number }[] = [];
  let done: Extract<CloudEvent, { type: "done" }> | undefined;
  for await (const event of events) {
    if (event.type === "text") text += event.text;
    else if (event.type === "call") calls[event.index] = { id: event.id, name: event.name, arguments: "", fragments: 0 };
    else if (event.type === "arguments") {
      calls[event.index]!.arguments += event.text;
      calls[event.index]!.fragments++;
    } else done = event;
  }
  return { text, calls, done };
}
