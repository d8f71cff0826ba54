/**
 * A loopback Hugging Face hub speaking its real wire protocol: the `/api/models/REPO/tree/REV` file list (LFS
 * files with their sha256 as `lfs.oid`), `/REPO/resolve/REV/FILE` answered with a 302 to a CDN on another host
 * (X-Linked-Etag, X-Linked-Size, X-Repo-Commit), the CDN serving bytes with `Range` (206, or 416 past the end),
 * 401 for a gated repository without its token, and faults: a connection dropped mid-file, bytes that do not match.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface HubRepo {
  files: Record<string, Buffer>;
  /** Requests must carry `Authorization: Bearer <token>`. */
  token?: string;
}

export interface RecordedHubRequest {
  server: "hub" | "cdn";
  method: string;
  path: string;
  range?: string;
  authorization?: string;
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const COMMIT = "0123456789abcdef0123456789abcdef01234567";

export interface FakeHub {
  url: string;
  requests: RecordedHubRequest[];
  /** The next downloads of this file break off after `bytes` bytes, `times` times. */
  dropAfter(file: string, bytes: number, times?: number): void;
  /** The CDN serves other bytes for this file than the hub's hash says. */
  corrupt(file: string): void;
  stop(): Promise<void>;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

export async function startFakeHub(repos: Record<string, HubRepo>): Promise<FakeHub> {
  const requests: RecordedHubRequest[] = [];
  const drops = new Map<string, { bytes: number; times: number }>();
  const corrupted = new Set<string>();
  const byHash = new Map<string, { file: string; data: Buffer }>();
  for (const repo of Object.values(repos)) for (const [file, data] of Object.entries(repo.files)) byHash.set(sha256(data), { file, data });
  const record = (server: "hub" | "cdn", req: IncomingMessage) =>
    requests.push({ server, method: req.method!, path: req.url!, range: req.headers.range, authorization: req.headers.authorization });
  const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));

  const cdn = createServer((req, res) => {
    record("cdn", req);
    const hash = /^\/blobs\/([0-9a-f]{64})/.exec(req.url ?? "")?.[1];
    const found = hash ? byHash.get(hash) : undefined;
    if (!found) return json(res, 404, { error: "Entry not found" });
    let data = found.data;
    if (corrupted.has(found.file)) data = Buffer.from(data.map((b, i) => (i === 100 ? b ^ 0xff : b)));
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    const start = range ? Number(range[1]) : 0;
    if (start >= data.length && range) return res.writeHead(416, { "content-range": `bytes */${data.length}` }).end();
    const body = data.subarray(start);
    res.writeHead(range ? 206 : 200, {
      "content-type": "application/octet-stream",
      "content-length": body.length,
      "accept-ranges": "bytes",
      ...(range && { "content-range": `bytes ${start}-${data.length - 1}/${data.length}` }),
    });
    const drop = drops.get(found.file);
    if (drop && drop.times > 0) {
      drop.times--;
      res.write(body.subarray(0, Math.max(0, drop.bytes - start)));
      setTimeout(() => res.destroy(), 20);
      return;
    }
    res.end(body);
  });
  const cdnUrl = await listen(cdn);

  const hub = createServer((req, res) => {
    record("hub", req);
    const url = new URL(req.url!, "http://hub");
    const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)$/.exec(url.pathname);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const repoName = (tree ?? resolve)?.[1];
    const repo = repoName ? repos[repoName] : undefined;
    if (!repo) return json(res, 404, { error: "Repository not found" });
    if (repo.token && req.headers.authorization !== `Bearer ${repo.token}`) {
      return json(res, 401, { error: `Access to model ${repoName} is restricted. You must have access to it and be authenticated to access it. Please log in.` });
    }
    if (tree) {
      return json(
        res,
        200,
        Object.entries(repo.files).map(([path, data]) =>
          path.endsWith(".gguf")
            ? { type: "file", oid: sha256(data).slice(0, 40), size: data.length, path, lfs: { oid: sha256(data), size: data.length, pointerSize: 135 } }
            : { type: "file", oid: sha256(data).slice(0, 40), size: data.length, path },
        ),
      );
    }
    const file = decodeURIComponent(resolve![3]!);
    const data = repo.files[file];
    if (!data) return json(res, 404, { error: "Entry not found" });
    res.writeHead(302, {
      location: `${cdnUrl}/blobs/${sha256(data)}?file=${encodeURIComponent(file)}`,
      "x-linked-etag": `"${sha256(data)}"`,
      "x-linked-size": String(data.length),
      "x-repo-commit": COMMIT,
      etag: `"${sha256(data).slice(0, 40)}"`,
    });
    res.end();
  });
  const url = await listen(hub);
  return {
    url,
    requests,
    dropAfter: (file, bytes, times = 1) => drops.set(file, { bytes, times }),
    corrupt: (file) => corrupted.add(file),
    async stop() {
      for (const server of [hub, cdn]) {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
      }
    },
  };
}
