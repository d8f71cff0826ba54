/** The two fake clouds as configured providers: "openai-a" (model gpt-fake) and "anthropic-b" (model claude-fake). */
import type { FakeCloud } from "../fakeCloud/fakeCloud.js";

export function fakeProviders(openai: FakeCloud, anthropic: FakeCloud, keys: { openai: object; anthropic: object }, each: object = {}) {
  return [
    { id: "openai-a", kind: "openai", baseUrl: openai.openaiBaseUrl, model: "gpt-fake", ...keys.openai, ...each },
    { id: "anthropic-b", kind: "anthropic", baseUrl: anthropic.anthropicBaseUrl, model: "claude-fake", ...keys.anthropic, ...each },
  ];
}
