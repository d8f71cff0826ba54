/** A request's priority class, from the `X-Edged-Priority` header or the body field `priority` (the header wins). */
import type { IncomingMessage } from "node:http";
import { PRIORITIES, type Priority } from "../scheduler/slotScheduler.js";
import { apiErrors } from "./errors.js";

export const PRIORITY_HEADER = "x-edged-priority";

export function priorityOf(req: IncomingMessage, bodyField: Priority | undefined): Priority {
  const header = req.headers[PRIORITY_HEADER];
  if (typeof header !== "string") return bodyField ?? "interactive";
  if (!(header in PRIORITIES)) throw apiErrors.invalidParam(PRIORITY_HEADER, `${PRIORITY_HEADER} must be one of ${Object.keys(PRIORITIES).join(", ")}`);
  return header as Priority;
}
