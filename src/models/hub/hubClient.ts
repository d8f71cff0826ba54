/**
 * A Hugging Face-compatible hub over undici: a repository's file tree (`/api/models/REPO/tree/REV`), and a file
 * from `/REPO/resolve/REV/FILE` through its redirects (the token goes to the hub's own host only), resumed with
 * `Range` after a drop and checked against the sha256 the hub reports (X-Linked-Etag, or the tree's LFS oid).
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, rm, stat, truncate } from "node:fs/promises";
import { Agent, request, type Dispatcher } from "undici";
import { z } from "zod";

export class HubError extends Error {
  override name = "HubError";
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

const TreeItem = z.object({
  type: z.string(),
  path: z.string(),
  size: z.number().int().nonnegative().optional(),
  oid: z.string().optional(),
  lfs: z.object({ oid: z.string(), size: z.number().int().nonnegative() }).passthrough().optional(),
});
export type TreeItem = z.infer<typeof TreeItem>;

export interface HubOptions {
  baseUrl: string;
  token?: string;
  /** Dropped connections resumed before giving up. */
  retries?: number;
  connectTimeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export type DownloadProgress = (done: number, total: number) => void;

const CONNECT_ERRORS = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ENETUNREACH", "EHOSTUNREACH", "UND_ERR_CONNECT_TIMEOUT"]);

async function hashOf(path: string, hash = createHash("sha256")): Promise<ReturnType<typeof createHash>> {
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 2 ** 20 })) hash.update(chunk as Buffer);
  return hash;
}

export class HubClient {
  private readonly dispatcher: Dispatcher;
  private readonly base: URL;

  constructor(private readonly options: HubOptions) {
    this.base = new URL(options.baseUrl.endsWith("/") ? options.baseUrl : `${options.baseUrl}/`);
    this.dispatcher = new Agent({ connect: { timeout: options.connectTimeoutMs ?? 5000 }, headersTimeout: 30_000, bodyTimeout: 60_000 });
  }

  get origin(): string {
    return this.base.origin;
  }

  private headersFor(url: URL, extra: Record<string, string> = {}): Record<string, string> {
    const own = url.host === this.base.host;
    return { "user-agent": "edged", ...(own && this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}), ...extra };
  }

  /** One request; connection failures say the hub is unreachable, at once. */
  private async call(url: URL, method: "GET" | "HEAD", headers: Record<string, string> = {}): Promise<Dispatcher.ResponseData> {
    try {
      return await request(url, { method, headers: this.headersFor(url, headers), dispatcher: this.dispatcher });
    } catch (error) {
      const code = (error as { code?: string }).code ?? (error as { cause?: { code?: string } }).cause?.code;
      if (code && CONNECT_ERRORS.has(code)) throw new HubError(`cannot reach the hub at ${this.base.origin} (${code}): edged is offline, or models.hubUrl is wrong`);
      throw error;
    }
  }

  private async failure(res: Dispatcher.ResponseData, what: string): Promise<HubError> {
    const text = await res.body.text().catch(() => "");
    let detail = text.slice(0, 300);
    try {
      detail = (JSON.parse(text) as { error?: string }).error ?? detail;
    } catch {
      // not JSON
    }
    if (res.statusCode === 401 || res.statusCode === 403) {
      const hint = this.options.token ? "the token in HF_TOKEN has no access to it (accept its terms on the hub?)" : "it is gated or private: set HF_TOKEN to a token with access";
      return new HubError(`${what}: ${res.statusCode} ${detail || "not authorized"}; ${hint}`, res.statusCode);
    }
    if (res.statusCode === 404) return new HubError(`${what}: not found on ${this.base.origin}`, 404);
    return new HubError(`${what}: the hub answered ${res.statusCode} ${detail}`, res.statusCode);
  }

  /** Every file of the repository at the revision. */
  async tree(repo: string, revision = "main"): Promise<TreeItem[]> {
    const url = new URL(`api/models/${repo}/tree/${encodeURIComponent(revision)}?recursive=true`, this.base);
    const res = await this.call(url, "GET");
    if (res.statusCode !== 200) throw await this.failure(res, `repository ${repo}`);
    const parsed = z.array(TreeItem).safeParse(await res.body.json());
    if (!parsed.success) throw new HubError(`repository ${repo}: the hub's file list is not in the expected shape`);
    return parsed.data.filter((i) => i.type === "file");
  }

  /** GET with redirects followed by hand, so the token never leaves the hub's own host. */
  private async fetchFile(url: URL, headers: Record<string, string>): Promise<{ res: Dispatcher.ResponseData; linkedSha256?: string }> {
    let linkedSha256: string | undefined;
    for (let hop = 0; hop < 5; hop++) {
      const res = await this.call(url, "GET", headers);
      const etag = res.headers["x-linked-etag"];
      if (typeof etag === "string") linkedSha256 = etag.replace(/^W\//, "").replaceAll('"', "");
      if (res.statusCode >= 300 && res.statusCode < 400 && typeof res.headers.location === "string") {
        await res.body.dump();
        url = new URL(res.headers.location, url);
        continue;
      }
      return { res, linkedSha256 };
    }
    throw new HubError(`too many redirects for ${url}`);
  }

  /**
   * Downloads `file` of `repo` into `partPath`, resuming what is there; resolves with the sha256 of the whole
   * file, checked against `expectedSha256` (or the hub's X-Linked-Etag).
   */
  async download(repo: string, file: string, partPath: string, o: { revision?: string; expectedSha256?: string; size?: number; onProgress?: DownloadProgress }): Promise<string> {
    const url = new URL(`${repo}/resolve/${encodeURIComponent(o.revision ?? "main")}/${file.split("/").map(encodeURIComponent).join("/")}`, this.base);
    const retries = this.options.retries ?? 5;
    const sleep = this.options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    let expected = o.expectedSha256;
    for (let attempt = 0; ; attempt++) {
      const have = await stat(partPath).then((s) => s.size, () => 0);
      const { res, linkedSha256 } = await this.fetchFile(url, have > 0 ? { range: `bytes=${have}-` } : {});
      expected ??= linkedSha256;
      if (res.statusCode === 416) {
        await res.body.dump();
        if (o.size !== undefined && have === o.size) break; // already whole
        await truncate(partPath, 0);
        continue;
      }
      if (res.statusCode !== 200 && res.statusCode !== 206) throw await this.failure(res, `${repo}/${file}`);
      const resumed = res.statusCode === 206;
      const total = o.size ?? (resumed ? undefined : Number(res.headers["content-length"])) ?? 0;
      const handle = await open(partPath, resumed ? "a" : "w");
      let done = resumed ? have : 0;
      try {
        for await (const chunk of res.body) {
          await handle.write(chunk as Buffer);
          done += (chunk as Buffer).length;
          o.onProgress?.(done, total || done);
        }
        await handle.sync();
      } catch (error) {
        if (attempt >= retries) throw new HubError(`${repo}/${file}: the download broke off ${attempt + 1} times (${(error as Error).message})`);
        await sleep(Math.min(5000, 200 * 2 ** attempt));
        continue;
      } finally {
        await handle.close();
      }
      if (o.size !== undefined && done < o.size) {
        if (attempt >= retries) throw new HubError(`${repo}/${file}: the download ended at ${done} of ${o.size} bytes`);
        continue;
      }
      break;
    }
    const digest = (await hashOf(partPath)).digest("hex");
    if (expected && digest !== expected) {
      await rm(partPath, { force: true });
      throw new HubError(`${repo}/${file}: sha256 of the download is ${digest}, the hub says ${expected}; nothing was kept`);
    }
    return digest;
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}
