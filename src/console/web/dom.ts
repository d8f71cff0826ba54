/**
 * Building the page: elements from tags, attributes and children, where every string is a text node. Nothing
 * the daemon sends (model output, memory content, request text, error messages) is ever parsed as HTML.
 */
export type Child = Node | string | number | false | null | undefined;
type Attributes = Record<string, string | number | boolean | EventListener | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") node.addEventListener(name.replace(/^on/, ""), value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  append(node, children.flat());
  return node;
}

export function append(node: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.appendChild(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
  }
}

/** Replaces a node's children. */
export function fill(node: Element, ...children: (Child | Child[])[]): void {
  node.replaceChildren();
  append(node, children.flat());
}

/** A table with a header row; each cell is text or nodes. */
export function table(headers: string[], rows: Child[][], caption?: string): HTMLElement {
  return h(
    "div",
    { class: "table" },
    h(
      "table",
      {},
      caption && h("caption", {}, caption),
      h("thead", {}, h("tr", {}, headers.map((name) => h("th", { scope: "col" }, name)))),
      h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell) => h("td", {}, cell))))),
    ),
  );
}

/** A section of a page with a heading. */
export function section(title: string, ...children: (Child | Child[])[]): HTMLElement {
  return h("section", {}, h("h2", {}, title), ...children);
}

/** What a part of the page is doing instead of showing data: loading, empty, or failed with the server's message. */
export function state(kind: "loading" | "empty" | "error", message: string): HTMLElement {
  return h("p", { class: `state ${kind}`, role: kind === "error" ? "alert" : undefined }, message);
}

/** A labelled form control. */
export function field(label: string, control: HTMLElement, id: string): HTMLElement {
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), control);
}

export function definitionList(pairs: [string, Child | Child[]][]): HTMLElement {
  return h("dl", {}, pairs.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
}

export const bytes = (n: number): string => (n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`);

export const ms = (n: number | undefined): string => (n === undefined || !Number.isFinite(n) ? "–" : n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${n.toFixed(n < 10 ? 2 : 0)} ms`);
