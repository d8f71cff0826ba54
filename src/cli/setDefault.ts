/**
 * `edged models set-default ID`: the default chat model of this data directory. A running daemon (--url, else the
 * configured address) takes the change at once, after its eval gate; with no daemon running, the gate (when
 * configured) runs on one started for it, and without a gate the choice is stored for the next start.
 */
import { request } from "undici";
import type { Config } from "../config/schema.js";
import { startDaemon } from "../daemon.js";
import type { ModelCatalog } from "../models/catalog.js";
import { chatId, type DefaultChange } from "../models/defaultChat.js";

/** The configured daemon's address, when something answers there. */
async function runningDaemon(config: Config): Promise<string | undefined> {
  const host = config.host === "0.0.0.0" ? "127.0.0.1" : config.host === "::" ? "::1" : config.host;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${config.port}`;
  try {
    await request(`${url}/health`, { headersTimeout: 2000, bodyTimeout: 2000 }).then((r) => r.body.dump());
    return url;
  } catch {
    return undefined;
  }
}

async function putDefault(url: string, apiKey: string | undefined, model: string): Promise<DefaultChange> {
  // the gate runs the suite twice before the answer: no time limit on it
  const r = await request(`${url}/v1/defaults/chat`, {
    method: "PUT",
    headers: { "content-type": "application/json", ...(apiKey && { authorization: `Bearer ${apiKey}` }) },
    body: JSON.stringify({ model }),
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  const body = (await r.body.json()) as DefaultChange & { error?: { message: string } };
  if (r.statusCode !== 200) throw new Error(`${url} refused: ${body.error?.message ?? `HTTP ${r.statusCode}`}`);
  return body;
}

export async function setDefault(config: Config, catalog: ModelCatalog, model: string, target: { url?: string; apiKey?: string }): Promise<void> {
  const apiKey = target.apiKey ?? config.security.apiKeys[0];
  const url = target.url ?? (await runningDaemon(config));
  let change: DefaultChange;
  if (url) change = await putDefault(url, apiKey, model);
  else if (config.eval.gate) {
    const daemon = await startDaemon({ ...config, host: "127.0.0.1", port: 0 }, () => undefined);
    try {
      await daemon.ready;
      change = await daemon.setDefaultChat(model);
    } finally {
      await daemon.stop();
    }
  } else {
    if (config.models.chat !== undefined) throw new Error(`the configuration's models.chat sets the default chat model (${config.models.chat}); change it there`);
    const previous = catalog.defaults.chat;
    const chat = chatId(catalog, model);
    catalog.storeDefaultChat(chat);
    change = { chat, previous, gate: [] };
  }
  for (const line of change.gate) console.log(line);
  console.log(change.chat === change.previous ? `${change.chat} is already the default chat model` : `default chat model: ${change.chat} (was ${change.previous})${url ? ` on ${url}` : ""}`);
}
