/**
 * Memory: search (semantic, keyword, hybrid) or list with filters; an item's versions with who changed it, why
 * and when, and a diff between any two; rollback and forget (with the receipt shown and checked); and the audit
 * chain verified with its head hash. Every piece of content is shown as text.
 */
import { json } from "./api.js";
import { definitionList, field, fill, h, section, state, table } from "./dom.js";
import { diffWords } from "./diff.js";
import { action, confirmed, type Page } from "./page.js";

interface Item {
  id: string;
  namespace: string;
  subject: string;
  content: string;
  metadata: Record<string, unknown>;
  version: number;
  updated_at: number;
  expires_at: number | null;
}

interface Version {
  version: number;
  op: string;
  actor: string;
  reason: string;
  at: number;
  content: string | null;
  content_hash: string;
}

interface Receipt {
  item_id: string;
  forgotten_at: number;
  content_hashes: string[];
  audit_seq: number;
  audit_hash: string;
}

interface ChainReport {
  ok: boolean;
  entries: number;
  head?: { seq: number; hash: string };
  firstBroken?: { seq: number; reason: string };
  contentMismatches: { itemId: string; version: number }[];
}

const when = (ms: number) => new Date(ms).toLocaleString();
const path = (id: string) => `/v1/memory/${encodeURIComponent(id)}`;
const ACTOR = "console";

function diffView(before: Version, after: Version): HTMLElement {
  if (before.content === null || after.content === null) return state("empty", "A forgotten version has no content to compare.");
  const parts = diffWords(before.content, after.content);
  if (!parts) return state("empty", "These versions are too long to compare here.");
  return h(
    "p",
    { class: "diff", "aria-label": `changes from version ${before.version} to ${after.version}` },
    parts.map((p) => (p.kind === "same" ? p.text : h(p.kind === "added" ? "ins" : "del", {}, p.text))),
  );
}

function receiptView(receipt: Receipt, out: HTMLElement): HTMLElement {
  const check = h("button", { type: "button" }, "Check the receipt");
  const verdict = h("p", { class: "verdict" });
  action(check, verdict, async () => {
    const r = await json<{ ok: boolean; reason?: string }>("/v1/memory/receipts/verify", { method: "POST", body: JSON.stringify(receipt) });
    verdict.textContent = r.ok ? "The receipt holds: the item and every version hold no content, and the audit log records the forgetting." : `The receipt does not hold: ${r.reason}`;
    verdict.dataset.ok = String(r.ok);
  });
  return h("div", { class: "receipt" }, h("h3", {}, "Forget receipt"), h("pre", {}, JSON.stringify(receipt, null, 2)), check, verdict, out);
}

async function details(id: string, panel: HTMLElement, refreshList: () => void): Promise<void> {
  const [item, history] = await Promise.all([json<Item>(path(id)).catch(() => undefined), json<{ data: Version[] }>(`${path(id)}/history`)]);
  const versions = history.data;
  const out = h("div");
  const older = h("select", { "aria-label": "from version" }, versions.map((v) => h("option", { value: v.version }, `v${v.version}`)));
  const newer = h("select", { "aria-label": "to version" }, versions.map((v) => h("option", { value: v.version }, `v${v.version}`)));
  if (versions.length > 1) older.value = String(versions.at(-2)!.version);
  newer.value = String(versions.at(-1)!.version);
  const diff = h("div");
  const showDiff = () => {
    const a = versions.find((v) => String(v.version) === older.value)!;
    const b = versions.find((v) => String(v.version) === newer.value)!;
    fill(diff, diffView(a, b));
  };
  older.addEventListener("change", showDiff);
  newer.addEventListener("change", showDiff);
  showDiff();
  const rollback = (v: Version) =>
    v.content === null || v.version === item?.version || !item
      ? ""
      : confirmed(`Roll back to v${v.version}`, `Make v${v.version}'s content current again (a new version)?`, out, async () => {
          await json(`${path(id)}/rollback`, { method: "POST", body: JSON.stringify({ version: v.version, actor: ACTOR, reason: "rolled back in the console" }) });
          await details(id, panel, refreshList);
          refreshList();
        });
  fill(
    panel,
    section(
      item ? `${item.namespace} / ${item.subject}` : `Item ${id} (forgotten)`,
      item
        ? definitionList([
            ["Content", h("p", { class: "content" }, item.content)],
            ["Version", String(item.version)],
            ["Metadata", JSON.stringify(item.metadata)],
            ["Expires", item.expires_at === null ? "never" : when(item.expires_at)],
          ])
        : state("empty", "This item was forgotten: no version holds its content."),
      h("h3", {}, "Versions"),
      table(
        ["version", "change", "actor", "reason", "time", "content", ""],
        versions.map((v) => [`v${v.version}`, v.op, v.actor, v.reason || "–", when(v.at), v.content ?? "(forgotten)", rollback(v)]),
      ),
      versions.length > 1 && h("div", { class: "diff-pick" }, h("h3", {}, "Differences"), older, " → ", newer, diff),
      item &&
        h(
          "p",
          {},
          confirmed("Forget", "Erase every version of this item's content for good?", out, async () => {
            const receipt = await json<Receipt>(`${path(id)}?actor=${ACTOR}&reason=${encodeURIComponent("forgotten in the console")}`, { method: "DELETE" });
            await details(id, panel, refreshList);
            panel.append(receiptView(receipt, h("div")));
            refreshList();
          }),
        ),
      out,
    ),
  );
}

/** The chosen item's panel, then the chain's verification. */
function chainView(panel: HTMLElement): HTMLElement {
  const run = h("button", { type: "button" }, "Verify the audit chain");
  const result = h("div");
  action(run, result, async () => {
    const r = await json<ChainReport>("/v1/memory/verify");
    fill(
      result,
      h("p", { class: `verdict`, "data-ok": String(r.ok) }, r.ok ? `The chain holds: ${r.entries} entries, every version's content matches its hash.` : `The chain is broken${r.firstBroken ? ` at entry ${r.firstBroken.seq}: ${r.firstBroken.reason}` : ""}${r.contentMismatches.length ? `; ${r.contentMismatches.length} versions do not match their hashes` : ""}.`),
      r.head && definitionList([["Head", `entry ${r.head.seq}`], ["Head hash", h("code", {}, r.head.hash)]]),
    );
  });
  return h("div", {}, panel, section("Audit chain", h("div", { class: "chain" }, run, result)));
}

export const memory: Page = {
  title: "Memory",
  show(view, signal) {
    const query = h("input", { type: "search", placeholder: "empty: the latest items" });
    const mode = h("select", {}, ["hybrid", "semantic", "keyword"].map((m) => h("option", { value: m }, m)));
    const namespace = h("input", { placeholder: "any" });
    const subject = h("input", { placeholder: "any" });
    const results = h("div", { "aria-live": "polite" });
    const panel = h("div", { class: "item" });
    const form = h(
      "form",
      { class: "search", role: "search" },
      field("Search", query, "mem-query"),
      field("Mode", mode, "mem-mode"),
      field("Namespace", namespace, "mem-namespace"),
      field("Subject", subject, "mem-subject"),
      h("div", { class: "buttons" }, h("button", { type: "submit" }, "Search")),
    );
    const open = (id: string) => void details(id, panel, refresh).catch((error: Error) => fill(panel, state("error", error.message)));
    const row = (item: Item, score?: number) => [
      h("button", { type: "button", class: "link", onclick: () => open(item.id) }, item.subject),
      item.namespace,
      h("span", { class: "content" }, item.content.length > 200 ? `${item.content.slice(0, 200)}…` : item.content),
      `v${item.version}`,
      score === undefined ? when(item.updated_at) : score.toFixed(3),
    ];
    async function refresh(): Promise<void> {
      fill(results, state("loading", "Searching…"));
      try {
        const filters = { ...(namespace.value && { namespace: namespace.value }), ...(subject.value && { subject: subject.value }) };
        if (query.value.trim()) {
          const hits = await json<{ data: { item: Item; score: number }[] }>("/v1/memory/search", { method: "POST", body: JSON.stringify({ query: query.value, mode: mode.value, ...filters }) });
          fill(results, hits.data.length ? table(["subject", "namespace", "content", "version", "score"], hits.data.map((hit) => row(hit.item, hit.score))) : state("empty", "Nothing matches."));
        } else {
          const list = await json<{ data: Item[] }>(`/v1/memory?${new URLSearchParams({ ...filters, limit: "50" })}`);
          fill(results, list.data.length ? table(["subject", "namespace", "content", "version", "updated"], list.data.map((item) => row(item))) : state("empty", "The memory holds no items yet."));
        }
      } catch (error) {
        if (!signal.aborted) fill(results, state("error", (error as Error).message));
      }
    }
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void refresh();
    });
    fill(view, h("h1", { tabindex: "-1" }, "Memory"), form, section("Items", results), chainView(panel));
    void refresh();
  },
};
