/**
 * Stored responses of the OpenAI Responses API (`store: true`, the default), in `DATA_DIR/responses.db`: the response
 * object as it was answered, its input items, the conversation up to and including its answer, from which
 * `previous_response_id` continues, and the tokens the device evaluated for it, so a continuation reuses their state.
 */
import { z } from "zod";
import type { EvaluatedTurn } from "../core/request.js";
import type { Db } from "../db/open.js";

export const RESPONSE_MIGRATIONS = [
  `CREATE TABLE responses (
     id TEXT PRIMARY KEY,
     created_at INTEGER NOT NULL,
     previous_response_id TEXT,
     conversation TEXT NOT NULL,
     input_items TEXT NOT NULL,
     response TEXT NOT NULL,
     evaluated TEXT
   ) STRICT;`,
];

/** A turn of a stored conversation: text, an assistant's tool calls, or a tool's result. */
export const StoredMessage = z.union([
  z.object({ role: z.enum(["system", "user"]), content: z.string() }),
  z.object({ role: z.literal("assistant"), content: z.string(), toolCalls: z.array(z.object({ id: z.string(), name: z.string(), arguments: z.string() })).optional() }),
  z.object({ role: z.literal("tool"), content: z.string(), toolCallId: z.string() }),
]);
export type StoredMessage = z.infer<typeof StoredMessage>;

export interface StoredResponse {
  id: string;
  createdAt: number;
  previousResponseId?: string;
  /** Every turn so far, this response's answer last; instructions are not carried over, as OpenAI does. */
  conversation: StoredMessage[];
  /** This response's input items, with their ids. */
  inputItems: { id: string }[];
  /** The response object as the client got it. */
  response: Record<string, unknown>;
  /** How the device evaluated this turn, when it answered it: a continuation reuses that state. */
  evaluated?: EvaluatedTurn;
}

const Evaluated = z.object({ model: z.string(), prompt: z.array(z.number().int()), output: z.array(z.number().int()), text: z.string() });

const Row = z.object({
  id: z.string(),
  created_at: z.number(),
  previous_response_id: z.string().nullable(),
  conversation: z.string(),
  input_items: z.string(),
  response: z.string(),
  evaluated: z.string().nullable(),
});

export class ResponseStore {
  constructor(private readonly db: Db) {}

  save(r: StoredResponse): void {
    this.db
      .prepare("INSERT INTO responses (id, created_at, previous_response_id, conversation, input_items, response, evaluated) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .run(r.id, r.createdAt, r.previousResponseId ?? null, JSON.stringify(r.conversation), JSON.stringify(r.inputItems), JSON.stringify(r.response), r.evaluated ? JSON.stringify(r.evaluated) : null);
  }

  get(id: string): StoredResponse | undefined {
    const row = this.db.prepare("SELECT * FROM responses WHERE id = ?").get(id);
    if (!row) return undefined;
    const r = Row.parse(row);
    return {
      id: r.id,
      createdAt: r.created_at,
      previousResponseId: r.previous_response_id ?? undefined,
      conversation: z.array(StoredMessage).parse(JSON.parse(r.conversation)),
      inputItems: JSON.parse(r.input_items) as { id: string }[],
      response: JSON.parse(r.response) as Record<string, unknown>,
      evaluated: r.evaluated === null ? undefined : Evaluated.parse(JSON.parse(r.evaluated)),
    };
  }

  /** Deletes the responses created before `cutoffSeconds` (epoch seconds, as `created_at`); returns how many. */
  purgeBefore(cutoffSeconds: number): number {
    return this.db.prepare("DELETE FROM responses WHERE created_at < ?").run(cutoffSeconds).changes;
  }

  get count(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM responses").get() as { n: number }).n;
  }

  /** Deletes one response (its continuations keep their own copy of the conversation); false when there was none. */
  delete(id: string): boolean {
    return this.db.prepare("DELETE FROM responses WHERE id = ?").run(id).changes > 0;
  }
}
