/** What a memory item is, and what callers send to change it (types for the store, REST and CLI). */
import { z } from "zod";

const Name = z.string().min(1).max(200);
export const Metadata = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));

export const WriteContext = z.object({
  actor: Name.default("api"),
  reason: z.string().max(1000).default(""),
});

export const CreateMemory = z.object({
  namespace: Name.default("default"),
  subject: Name,
  content: z.string().min(1).max(100_000),
  metadata: Metadata.default({}),
  /** Absolute expiry, epoch milliseconds; or `ttl_ms` from now. */
  expires_at: z.number().int().positive().nullish(),
  ttl_ms: z.number().int().positive().optional(),
  ...WriteContext.shape,
});
export type CreateMemory = z.input<typeof CreateMemory>;

export const UpdateMemory = z
  .object({
    content: z.string().min(1).max(100_000).optional(),
    metadata: Metadata.optional(),
    expires_at: z.number().int().positive().nullish(),
    ...WriteContext.shape,
  })
  .refine((u) => u.content !== undefined || u.metadata !== undefined || u.expires_at !== undefined, { message: "nothing to update: give content, metadata or expires_at" });
export type UpdateMemory = z.input<typeof UpdateMemory>;

export const SearchMemory = z.object({
  query: z.string().min(1).max(10_000),
  mode: z.enum(["semantic", "keyword", "hybrid"]).default("hybrid"),
  namespace: Name.optional(),
  subject: Name.optional(),
  /** Items whose metadata has all these key/value pairs. */
  metadata: Metadata.optional(),
  k: z.number().int().min(1).max(100).default(10),
});
export type SearchMemory = z.input<typeof SearchMemory>;

export interface MemoryItem {
  id: string;
  namespace: string;
  subject: string;
  content: string;
  metadata: Record<string, string | number | boolean | null>;
  version: number;
  content_hash: string;
  created_at: number;
  updated_at: number;
  expires_at: number | null;
}

export interface MemoryVersion {
  version: number;
  op: "create" | "update" | "rollback" | "forget";
  actor: string;
  reason: string;
  at: number;
  content: string | null;
  metadata: Record<string, unknown> | null;
  expires_at: number | null;
  content_hash: string;
}

/** Proof that an item was forgotten: the hashes it had, and the audit entry that recorded the forgetting. */
export interface ForgetReceipt {
  item_id: string;
  forgotten_at: number;
  content_hashes: string[];
  audit_seq: number;
  audit_hash: string;
}
