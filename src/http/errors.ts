/** Every failure a client can see, in OpenAI's error shape, mapped to HTTP in this one place. */
import { ZodError } from "zod";
import { ContextLengthError, InvalidGrammarError, SchemaViolationError } from "../engines/llama/errors.js";
import { InsufficientStorageError } from "../db/storage.js";
import { MemoryNotFoundError } from "../memory/memoryStore.js";
import { IdempotencyConflictError } from "../offline/jobStore.js";
import { DeadlineExceededError, QueueFullError } from "../scheduler/errors.js";

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }

  body(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }

  /** Ollama's routes answer errors as `{"error": "message"}`. */
  ollamaBody(): { error: string } {
    return { error: this.message };
  }

  /** Anthropic's routes answer errors as `{"type": "error", "error": {"type", "message"}}`, typed by status. */
  anthropicBody(): { type: "error"; error: { type: string; message: string } } {
    const type = ANTHROPIC_ERROR_TYPES[this.status] ?? (this.status < 500 ? "invalid_request_error" : "api_error");
    return { type: "error", error: { type, message: this.message } };
  }
}

const ANTHROPIC_ERROR_TYPES: Partial<Record<number, string>> = {
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  503: "overloaded_error",
  504: "timeout_error",
  529: "overloaded_error",
};

const invalid = (status: number, message: string, code: string | null = null, param: string | null = null, headers?: Record<string, string>) =>
  new ApiError(status, message, "invalid_request_error", code, param, headers);

export const apiErrors = {
  invalidJson: (detail: string) => invalid(400, `We could not parse the JSON body of your request: ${detail}`, "invalid_json"),
  unsupportedMediaType: (got: string | undefined) =>
    invalid(415, `Content-Type must be application/json, got ${got ? `"${got}"` : "none"}`, "unsupported_media_type"),
  bodyTooLarge: (limit: number) => invalid(413, `Request body is larger than the limit of ${limit} bytes`, "request_too_large"),
  invalidParam: (param: string, message: string) => invalid(400, message, "invalid_value", param),
  modelNotFound: (model: string) => invalid(404, `The model \`${model}\` does not exist or is not served here`, "model_not_found", "model"),
  routeNotFound: (method: string, path: string) => invalid(404, `Unknown request URL: ${method} ${path}`, "unknown_url"),
  methodNotAllowed: (method: string, path: string, allowed: string[]) =>
    invalid(405, `Method ${method} is not allowed on ${path}; use ${allowed.join(", ")}`, "method_not_allowed", null, { allow: allowed.join(", ") }),
  unauthorized: () => new ApiError(401, "Missing or invalid API key: send `Authorization: Bearer <key>` (or `x-api-key: <key>`)", "authentication_error", "invalid_api_key", null, { "www-authenticate": "Bearer" }),
  forbiddenHost: (host: string | undefined) => new ApiError(403, `Host ${host ? `"${host}"` : "(none)"} is not allowed`, "permission_error", "host_not_allowed"),
  forbiddenOrigin: (origin: string) => new ApiError(403, `Origin "${origin}" is not allowed`, "permission_error", "origin_not_allowed"),
  notReady: (why: string) => new ApiError(503, `The server is not ready: ${why}`, "server_error", "not_ready", null, { "retry-after": "1" }),
  shuttingDown: () => new ApiError(503, "The server is shutting down", "server_error", "shutting_down", null, { connection: "close" }),
  internal: () => new ApiError(500, "The server had an error while processing your request", "server_error", "internal_error"),
};

/** Abort reasons of a request's signal. */
export class ShutdownError extends Error {
  override name = "ShutdownError";
  constructor() {
    super("the server is shutting down");
  }
}

export class ClientGoneError extends Error {
  override name = "ClientGoneError";
  constructor() {
    super("the client closed the connection");
  }
}

function zodToApiError(error: ZodError): ApiError {
  const issue = error.issues[0]!;
  const param = issue.path.map(String).join(".") || null;
  const message =
    issue.code === "unrecognized_keys"
      ? `Unrecognized request argument supplied: ${issue.keys.join(", ")}`
      : param
        ? `Invalid value for '${param}': ${issue.message}`
        : issue.message;
  return new ApiError(400, message, "invalid_request_error", issue.code === "unrecognized_keys" ? "unknown_parameter" : "invalid_value", param ?? (issue.code === "unrecognized_keys" ? issue.keys[0] ?? null : null));
}

/** Maps any thrown value to the error the client gets. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof ZodError) return zodToApiError(error);
  if (error instanceof ContextLengthError) return invalid(400, error.message, "context_length_exceeded", error.param);
  if (error instanceof InvalidGrammarError) return invalid(400, error.message, "invalid_value", error.param);
  if (error instanceof SchemaViolationError) return new ApiError(500, error.message, "server_error", "schema_violation");
  if (error instanceof QueueFullError) {
    return new ApiError(429, error.message, "rate_limit_error", error.code, null, { "retry-after": String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))) });
  }
  if (error instanceof MemoryNotFoundError) return invalid(404, error.message, "memory_not_found");
  if (error instanceof IdempotencyConflictError) return invalid(409, error.message, "idempotency_conflict", "Idempotency-Key");
  if (error instanceof InsufficientStorageError) return new ApiError(507, error.message, "server_error", "insufficient_storage");
  if (error instanceof ShutdownError) return apiErrors.shuttingDown();
  if (error instanceof ClientGoneError) return new ApiError(499, error.message, "invalid_request_error", "client_closed_request");
  if (error instanceof DeadlineExceededError) return new ApiError(504, error.message, "timeout_error", "deadline_exceeded");
  return apiErrors.internal();
}
