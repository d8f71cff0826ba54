/** Naming a new default chat model while the daemon runs (`edged models set-default`, or models.chat reloaded). */
import { apiErrors } from "../http/errors.js";
import type { ModelCatalog } from "./catalog.js";

/** The configuration names the default chat model, which a stored choice would not override. */
export class DefaultFixedError extends Error {
  override name = "DefaultFixedError";
}

/** The catalogue id of a chat model named by id or alias; a 404 or 400 in the API's shape when it is none. */
export function chatId(catalog: ModelCatalog, name: string): string {
  const entry = catalog.find(name);
  if (!entry) throw apiErrors.modelNotFound(name);
  if (entry.engine !== "llama") throw apiErrors.invalidParam("model", `${entry.id} is an embedding model, not a chat model`);
  return entry.id;
}

export interface DefaultChange {
  chat: string;
  previous: string;
  /** A line per swap the eval gate passed. */
  gate: string[];
}
