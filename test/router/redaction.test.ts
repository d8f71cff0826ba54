import assert from "node:assert/strict";
import { test } from "node:test";
import { guardMessages, ibanValid, luhnValid, redact, scan, type FindingKind } from "../../src/router/redaction.js";

/** Each text, found as exactly one finding of `kind` spanning exactly `value`, inside a sentence. */
function assertFinds(kind: FindingKind, values: string[]) {
  for (const value of values) {
    const text = `Please note ${value} for later.`;
    const findings = scan(text);
    assert.equal(findings.length, 1, `${JSON.stringify(value)}: ${JSON.stringify(findings)}`);
    assert.equal(findings[0]!.kind, kind, value);
    assert.equal(text.slice(findings[0]!.start, findings[0]!.end), value);
  }
}

/** A number one off in its last digit fails the check digit it passed. */
const offByOne = (digits: string) => digits.slice(0, -1) + ((Number(digits.at(-1)) + 1) % 10);

test("e-mail addresses", () => {
  assertFinds("email", ["jane.doe@example.com", "j.doe+billing@mail.example.co.uk", "first_last-99@sub-domain.example.org", "X%Y@EXAMPLE.IO"]);
});

test("phone numbers: international and national, spaced, dashed, dotted, parenthesised", () => {
  assertFinds("phone", [
    "+1 415 555 2671",
    "+1 (415) 555-2671",
    "+44 20 7946 0958",
    "+44 (0)20 7946 0958",
    "+4915112345678",
    "+33 1 23 45 67 89",
    "0049 30 1234567",
    "(555) 123-4567",
    "555-123-4567",
    "555.123.4567",
    "1-800-555-0199",
    "030 1234567",
    "06-12345678",
    "01 23 45 67 89",
    "0612345678",
  ]);
});

test("payment cards: Luhn-valid, plain or grouped by spaces or dashes, beside other numbers", () => {
  const cards = ["4111 1111 1111 1111", "4111-1111-1111-1111", "5555555555554444", "3782 822463 10005", "6011 1111 1111 1117", "4222222222222", "3056 930902 5904"];
  for (const card of cards) assert.ok(luhnValid(card.replace(/\D/g, "")), card);
  assertFinds("card", cards);
  const withCvv = "card 4111 1111 1111 1111 cvv 123, also 5555 5555 5555 4444 123";
  assert.deepEqual(
    scan(withCvv).map((f) => [f.kind, withCvv.slice(f.start, f.end)]),
    [
      ["card", "4111 1111 1111 1111"],
      ["card", "5555 5555 5555 4444"],
    ],
  );
});

test("IBANs: country code, check digits, BBAN, with or without spaces, mod-97 checked", () => {
  const ibans = ["DE89 3704 0044 0532 0130 00", "DE89370400440532013000", "GB82 WEST 1234 5698 7654 32", "NL91ABNA0417164300", "CH9300762011623852957", "BE68 5390 0754 7034", "NO9386011117947"];
  for (const iban of ibans) assert.ok(ibanValid(iban), iban);
  assertFinds("iban", ibans);
});

test("secrets: provider keys, tokens, private keys, and the values of key/secret/token/password assignments", () => {
  const keys = [
    "sk-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL",
    "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z_Ab3dEf6hIj9kLm",
    "sk-ant-api03-Xy7_Zq2-Wv9Ut4Rs1Po8Nm5Lk3Ji6Hg0Fe2Dc7Ba9Zx",
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_0123456789abcdefghijABCDEFGHIJ012345",
    "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEF",
    "gho_16C7e42F292c6912E7710c838347Ae178B4a",
    "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
  ];
  assertFinds("secret", keys);

  const pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo\n4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0\n-----END RSA PRIVATE KEY-----";
  const cutOff = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ";
  const contexts: [string, string][] = [
    ["Authorization: Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0", "9f8e7d6c5b4a39281706f5e4d3c2b1a0"],
    ["OPENAI_API_KEY=hunter2-prod", "hunter2-prod"],
    ['{"client_secret": "correct horse battery staple"}', "correct horse battery staple"],
    ["db.password: Tr0ub4dor&3", "Tr0ub4dor&3"],
    ["const apiKey = 'abcdef0123456789';", "abcdef0123456789"],
    ["auth_token='ZmFrZS10b2tlbg=='", "ZmFrZS10b2tlbg=="],
    [`key file:\n${pem}\nend`, pem],
    [`pasted: ${cutOff}`, cutOff],
  ];
  for (const [text, secret] of contexts) {
    const findings = scan(text);
    assert.deepEqual(findings.map((f) => [f.kind, text.slice(f.start, f.end)]), [["secret", secret]], text);
  }
  // the name stays readable, the value is gone
  assert.equal(redact("Authorization: Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0").text, "Authorization: Bearer [REDACTED_SECRET]");
  assert.equal(redact("OPENAI_API_KEY=hunter2-prod").text, "OPENAI_API_KEY=[REDACTED_SECRET]");
});

test("no findings in text that only looks sensitive", () => {
  const card = "4111111111111111";
  const badCard = offByOne(card);
  assert.ok(!luhnValid(badCard));
  const badIban = "DE88 3704 0044 0532 0130 00";
  assert.ok(!ibanValid(badIban));
  const clean = [
    `pay with ${badCard}`,
    "or 4111 1111 1111 1112, 1234 5678 9012 3456 and 1234-5678-1234-5678",
    "ISBN 978-3-16-148410-0, ISBN-10: 0-306-40615-2, ISBN 0306406152 and 9783161484100",
    "on 2024-01-15, 15.01.2024, 01/15/2024, 2024/01/15 and 2024-01-15 10:30",
    "version 1.2.3.4, build 10.0.19041.1234, host 192.168.100.200",
    "ordinary numbers: 42, 12345, 1,234,567, 1 000 000, 1.000.000, 3.14159265, -7, 250 km and 99.5%",
    `transfer to ${badIban} or GB83 WEST 1234 5698 7654 32`,
    "a sky-blue sk-learn-style-tutorial-for-beginners task with max_tokens=256 and tokens: 512",
    "Bearer authentication is described in RFC 6750. Key: value. The secret: nobody knows. A token == null check.",
    "my monkey = happy; user@ or @handle or a@b",
  ];
  for (const text of clean) assert.deepEqual(scan(text), [], text);
});

test("overlapping findings are one span, named by the stronger kind: secrets win over phone numbers and cards", () => {
  const phone = '"555-123-4567"';
  assert.deepEqual(scan(phone).map((f) => f.kind), ["phone"], "the value alone is a phone number");
  const text = `password: ${phone}`;
  assert.deepEqual(scan(text), [{ kind: "secret", start: 11, end: 23 }]);
  const card = 'api_key="4111111111111111"';
  assert.deepEqual(scan(card).map((f) => f.kind), ["secret"]);
  for (const grouped of ["4111-1111-1111-1111", "+1 4111 1111 1111 1111", "(0)4111 1111 1111 1111"]) {
    const kinds = scan(`call ${grouped}`).map((f) => f.kind);
    assert.ok(!kinds.includes("phone"), `${grouped}: ${kinds}`);
  }
});

test("mixed text: every finding replaced by its placeholder, in order, counted, none of the originals left", () => {
  const originals = ["ada@example.com", "+44 20 7946 0958", "4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00", "sk-proj-Zz9yX8wV7uT6sR5qP4oN3mL2kJ1iH0gF"];
  const text = `Hi, I'm Ada (${originals[0]}, ${originals[1]}). Charge ${originals[2]} or wire to ${originals[3]}.\nMy key is ${originals[4]}; thanks!`;
  const r = redact(text);
  assert.equal(
    r.text,
    "Hi, I'm Ada ([REDACTED_EMAIL], [REDACTED_PHONE]). Charge [REDACTED_CARD] or wire to [REDACTED_IBAN].\nMy key is [REDACTED_SECRET]; thanks!",
  );
  assert.deepEqual(r.counts, { email: 1, phone: 1, card: 1, iban: 1, secret: 1 });
  assert.equal(r.total, 5);
  for (const original of originals) assert.ok(!r.text.includes(original), original);
  for (const fragment of ["7946", "1111", "3704", "Zz9yX8"]) assert.ok(!r.text.includes(fragment), fragment);
  assert.deepEqual(scan(r.text), [], "redacted text has nothing left to find");
  const findings = scan(text);
  for (let i = 1; i < findings.length; i++) assert.ok(findings[i]!.start >= findings[i - 1]!.end, "findings are ordered and disjoint");
});

test("policies: ALLOW sends as is, ALLOW_WITH_REDACTION sends a redacted copy, DENY refuses what has findings", () => {
  const secret = "sk-ant-api03-Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6";
  const messages = [
    { role: "system", content: "You are helpful." },
    { role: "user", content: `Use ${secret} and mail bob@example.org`, name: "bob" },
    { role: "assistant", content: "Noted." },
  ];
  const snapshot = structuredClone(messages);

  const allow = guardMessages(messages, "ALLOW");
  assert.equal(allow.allowed, true);
  assert.deepEqual(allow.messages, snapshot);
  assert.equal(allow.total, 2);
  assert.deepEqual(allow.counts, { email: 1, phone: 0, card: 0, iban: 0, secret: 1 });

  const redacted = guardMessages(messages, "ALLOW_WITH_REDACTION");
  assert.equal(redacted.allowed, true);
  assert.equal(redacted.total, 2);
  assert.deepEqual(redacted.messages, [snapshot[0], { role: "user", content: "Use [REDACTED_SECRET] and mail [REDACTED_EMAIL]", name: "bob" }, snapshot[2]]);
  assert.ok(!JSON.stringify(redacted.messages).includes(secret));
  assert.deepEqual(messages, snapshot, "the caller's messages are not changed");

  const deny = guardMessages(messages, "DENY");
  assert.equal(deny.allowed, false);
  assert.equal(deny.total, 2);
  const clean = guardMessages([{ role: "user", content: "What is 6 times 7?" }], "DENY");
  assert.deepEqual(clean, { allowed: true, messages: [{ role: "user", content: "What is 6 times 7?" }], counts: { email: 0, phone: 0, card: 0, iban: 0, secret: 0 }, total: 0 });
});

test("tool calls in the history: string values of their arguments are redacted and stay valid JSON; DENY counts them", () => {
  const messages = [
    { role: "user", content: "mail it" },
    {
      role: "assistant",
      content: "",
      toolCalls: [
        { id: "c1", name: "send", arguments: JSON.stringify({ to: ["bob@example.org"], note: { card: "4111 1111 1111 1111" }, n: 4 }) },
        { id: "c2", name: "plain", arguments: "not json bob@example.org" },
        { id: "c3", name: "clean", arguments: '{"city":  "Paris"}' },
      ],
    },
  ];
  const redacted = guardMessages(messages, "ALLOW_WITH_REDACTION");
  assert.equal(redacted.total, 3);
  const calls = (redacted.messages[1] as (typeof messages)[1]).toolCalls!;
  assert.deepEqual(JSON.parse(calls[0]!.arguments), { to: ["[REDACTED_EMAIL]"], note: { card: "[REDACTED_CARD]" }, n: 4 });
  assert.equal(calls[1]!.arguments, "not json [REDACTED_EMAIL]");
  assert.equal(calls[2]!.arguments, '{"city":  "Paris"}', "arguments without findings go as they were written");
  assert.equal(guardMessages(messages, "DENY").allowed, false);
});
