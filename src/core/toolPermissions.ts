/**
 * Which tools a caller may offer a model (config `security.tools`): tool names per API key, "anonymous" for callers
 * without one, "*" for any name. A tool a caller may not offer is refused (403) or removed from the request, by
 * policy; a model can only call what was offered, so it can never call a tool its caller may not use.
 */
import { z } from "zod";
import type { ToolDefinition } from "./request.js";

export const ToolPermissionsConfig = z
  .object({
    policy: z.enum(["refuse", "remove"]).default("refuse"),
    /** Tool names by API key; a key not listed may offer none. */
    allow: z.record(z.string(), z.array(z.string().min(1))),
  })
  .strict();
export type ToolPermissionsConfig = z.infer<typeof ToolPermissionsConfig>;

export const ANONYMOUS_CALLER = "anonymous";

export class ToolPermissions {
  constructor(private readonly config: ToolPermissionsConfig) {}

  get policy(): "refuse" | "remove" {
    return this.config.policy;
  }

  /** The request's tools split into those its caller (an API key, or none) may offer and the names of the rest. */
  split(apiKey: string | undefined, tools: readonly ToolDefinition[]): { allowed: ToolDefinition[]; denied: string[] } {
    const names = this.config.allow[apiKey ?? ANONYMOUS_CALLER] ?? [];
    const may = (name: string) => names.includes("*") || names.includes(name);
    return { allowed: tools.filter((t) => may(t.name)), denied: tools.filter((t) => !may(t.name)).map((t) => t.name) };
  }
}
