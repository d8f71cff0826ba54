/** The two fake clouds as configured providers ("openai-a", model gpt-fake; "anthropic-b", model claude-fake), and routes that always reach them. */
import type { FakeCloud } from "../fakeCloud/fakeCloud.js";

export function fakeProviders(openai: FakeCloud, anthropic: FakeCloud, keys: { openai: object; anthropic: object }, each: object = {}) {
  return [
    { id: "openai-a", kind: "openai", baseUrl: openai.openaiBaseUrl, model: "gpt-fake", ...keys.openai, ...each },
    { id: "anthropic-b", kind: "anthropic", baseUrl: anthropic.anthropicBaseUrl, model: "claude-fake", ...keys.anthropic, ...each },
  ];
}

/**
 * Router settings under which every request goes to the cloud on any machine: each route counts every prompt as
 * difficult, under a default budget the device always makes. (A request over budget on the device stays there when
 * the cloud was measured slower still, and for a loopback fake that is up to how busy the machine is.)
 */
export function everyRequestToTheCloud(routes: object[], rest: object = {}) {
  return { defaultBudgetMs: 60_000, ...rest, routes: routes.map((route) => ({ difficultyThreshold: 0, ...route })) };
}
