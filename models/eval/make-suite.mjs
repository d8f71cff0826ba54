// Writes edged-kjv.jsonl, the evaluation suite for the bundled chat model, from the held-out split (chapters it
// never trained on): the assistant answers a verse with the next one, as it was trained to. Deterministic.
import { readFileSync, writeFileSync } from "node:fs";

const here = new URL(".", import.meta.url);
const pairs = JSON.parse(readFileSync(new URL("../data/heldout-pairs.json", here), "utf8"));
const VERSE = { type: "object", properties: { verse: { type: "string", maxLength: 60 } }, required: ["verse"] };
const lines = [];
const chosen = pairs.filter(([a, b], i) => i % 25 === 0 && a.length <= 160 && b.length <= 160).slice(0, 24);
chosen.forEach(([verse, next], i) => {
  const messages = [{ role: "user", content: verse }];
  lines.push({
    id: `next-verse-${i + 1}`,
    messages,
    max_tokens: 48,
    checks: [
      { type: "similarity", reference: next, min: 0.25 },
      { type: "loglik", context: verse, continuation: ` ${next}` },
      { type: "regex", pattern: "^\\s*[A-Z][a-z]*\\b" },
    ],
  });
  if (i % 4 === 0) {
    lines.push({
      id: `next-verse-${i + 1}-json`,
      messages,
      max_tokens: 64,
      response_format: { type: "json_schema", json_schema: { name: "verse", schema: VERSE } },
      checks: [{ type: "json_schema", schema: VERSE }],
    });
  }
});
writeFileSync(new URL("edged-kjv.jsonl", here), lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
console.log(`wrote ${lines.length} cases`);
