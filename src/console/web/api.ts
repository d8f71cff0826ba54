/**
 * The daemon's public API as the console calls it: the key (asked for once when the daemon answers 401, kept in
 * sessionStorage), errors carrying the server's own message in whichever API's shape it came, and streams of
 * server-sent events read as they arrive.
 */
const KEY = "edged.apiKey";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The message of an error body in OpenAI's, Anthropic's or Ollama's shape. */
function messageOf(status: number, body: unknown): string {
  const b = body as { error?: string | { message?: string }; message?: string } | null;
  const message = typeof b?.error === "string" ? b.error : (b?.error?.message ?? b?.message);
  return message ? `${status}: ${message}` : `the daemon answered ${status}`;
}

let asking: Promise<void> | undefined;

/** Shows the key form and resolves once a key was entered. */
function askForKey(wrong: boolean): Promise<void> {
  asking ??= new Promise<void>((resolve) => {
    const form = document.getElementById("key") as HTMLFormElement;
    const input = document.getElementById("key-input") as HTMLInputElement;
    const label = form.querySelector("label")!;
    label.textContent = wrong ? "The daemon refused that key (401); enter another" : "This daemon asks for an API key";
    form.hidden = false;
    input.focus();
    form.addEventListener(
      "submit",
      (event) => {
        event.preventDefault();
        sessionStorage.setItem(KEY, input.value.trim());
        input.value = "";
        form.hidden = true;
        asking = undefined;
        resolve();
      },
      { once: true },
    );
  });
  return asking;
}

function headers(init: RequestInit): Headers {
  const result = new Headers(init.headers);
  const key = sessionStorage.getItem(KEY);
  if (key) result.set("authorization", `Bearer ${key}`);
  if (init.body !== undefined && !result.has("content-type")) result.set("content-type", "application/json");
  return result;
}

/** A response from the daemon, asking for the key as often as the daemon refuses it. */
export async function call(path: string, init: RequestInit = {}): Promise<Response> {
  for (;;) {
    const response = await fetch(path, { ...init, headers: headers(init) });
    if (response.status !== 401) return response;
    await askForKey(sessionStorage.getItem(KEY) !== null);
  }
}

async function failure(response: Response): Promise<ApiError> {
  const text = await response.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = { message: text.slice(0, 200) };
  }
  return new ApiError(response.status, messageOf(response.status, body));
}

export async function json<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await call(path, init);
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

export async function text(path: string): Promise<string> {
  const response = await call(path);
  if (!response.ok) throw await failure(response);
  return response.text();
}

export interface StreamHandlers {
  /** The response's headers, as soon as they arrive. */
  onOpen(headers: Headers): void;
  /** Each event's data, as it arrives. */
  onEvent(data: string): void;
}

/** POSTs a streaming request and reads its server-sent events until the stream ends. */
export async function stream(path: string, body: unknown, headers: Record<string, string>, on: StreamHandlers, signal?: AbortSignal): Promise<void> {
  const response = await call(path, { method: "POST", body: JSON.stringify(body), headers, signal });
  if (!response.ok || !response.body) throw await failure(response);
  on.onOpen(response.headers);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).trimStart())
        .join("\n");
      if (data) on.onEvent(data);
    }
  }
}
