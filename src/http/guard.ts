/**
 * What a localhost API must check before anything else: the Host header (DNS rebinding), the browser
 * Origin (CORS allow-list) and, when keys are configured, the API key (a bearer key or Anthropic's x-api-key).
 */
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import { ConfigError } from "../config/load.js";
import { apiErrors } from "./errors.js";

export interface GuardOptions {
  host: string;
  port: number;
  apiKeys: readonly string[];
  allowedHosts: readonly string[];
  allowedOrigins: readonly string[];
}

const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "[::1]", "::1"];

export function isLoopback(address: string): boolean {
  if (address === "localhost" || address === "::1" || address === "[::1]") return true;
  return isIP(address) === 4 && address.startsWith("127.");
}

function hostname(hostHeader: string): string {
  if (hostHeader.startsWith("[")) return hostHeader.slice(0, hostHeader.indexOf("]") + 1);
  return hostHeader.split(":")[0]!;
}

export class Guard {
  private readonly hosts: Set<string>;
  private readonly origins: Set<string>;
  private readonly keys: Buffer[];

  constructor(options: GuardOptions) {
    const bindHost = options.host.includes(":") && !options.host.startsWith("[") ? `[${options.host}]` : options.host;
    const unspecified = options.host === "0.0.0.0" || options.host === "::";
    this.hosts = new Set([...LOOPBACK_NAMES, ...(unspecified ? [] : [bindHost]), ...options.allowedHosts].map((h) => h.toLowerCase()));
    this.origins = new Set(options.allowedOrigins.map((o) => new URL(o).origin));
    this.keys = options.apiKeys.map((k) => Buffer.from(k));
    if (!isLoopback(options.host) && this.keys.length === 0) {
      throw new ConfigError(`binding ${options.host} (not loopback) requires at least one API key (security.apiKeys or EDGED_API_KEYS)`);
    }
  }

  /** Rejects requests whose Host is not one this server answers to. */
  checkHost(req: IncomingMessage): void {
    const host = req.headers.host;
    if (!host || !this.hosts.has(hostname(host).toLowerCase())) throw apiErrors.forbiddenHost(host);
  }

  /**
   * Rejects disallowed browser origins; returns the CORS headers for an allowed one. A page this server served
   * (the console) calls it from its own origin, which needs no CORS: that origin names the Host already checked.
   */
  checkOrigin(req: IncomingMessage): Record<string, string> {
    const origin = req.headers.origin;
    if (origin === undefined || sameOrigin(origin, req.headers.host)) return {};
    if (!this.origins.has(origin)) throw apiErrors.forbiddenOrigin(origin);
    return { "access-control-allow-origin": origin, vary: "Origin" };
  }

  preflightHeaders(req: IncomingMessage): Record<string, string> {
    return {
      ...this.checkOrigin(req),
      "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
      "access-control-allow-headers": req.headers["access-control-request-headers"] ?? "authorization, x-api-key, content-type",
      "access-control-max-age": "600",
    };
  }

  checkAuth(req: IncomingMessage): void {
    if (this.keys.length === 0) return;
    const given = Buffer.from(apiKeyOf(req) ?? "");
    if (!this.keys.some((k) => k.length === given.length && timingSafeEqual(k, given))) throw apiErrors.unauthorized();
  }
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  if (!host || !URL.canParse(origin)) return false;
  const url = new URL(origin);
  return url.protocol === "http:" && url.host === host.toLowerCase();
}

/** The request's API key: an `Authorization: Bearer <key>` header, or Anthropic's `x-api-key`. */
export function apiKeyOf(req: IncomingMessage): string | undefined {
  const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "")?.[1]?.trim();
  const header = req.headers["x-api-key"];
  return bearer ?? (typeof header === "string" && header.trim() ? header.trim() : undefined);
}
