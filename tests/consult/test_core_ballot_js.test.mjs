// Run by tests/consult/test_core_ballot_js.py under `node --test`.
// JS-only assertions run here; the vectors written to $BEFFROI_JS_OUT are checked
// against the Python implementation by the pytest side.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";

const mod = await import(process.env.BEFFROI_BALLOT_JS);
const cases = JSON.parse(readFileSync(process.env.BEFFROI_JS_CASES, "utf8"));

test("code normalisation and typo detection", () => {
  const code = cases.code;
  assert.equal(mod.normalizeCode(code.toLowerCase()), code.replace(/-/g, ""));
  assert.equal(mod.codeFromHash("#" + code), code.replace(/-/g, ""));
  assert.equal(mod.codeFromHash(""), null);
  assert.throws(() => mod.codeFromHash("#%E0%A4%A"), mod.CodeError);
  const raw = code.replace(/-/g, "");
  const typo = raw.slice(0, 5) + (raw[5] === "A" ? "B" : "A") + raw.slice(6);
  assert.throws(() => mod.normalizeCode(typo), mod.CodeError);
  assert.throws(() => mod.normalizeCode("ABC"), /24 caractères/);
});

test("canonical encoding refuses what Python refuses", () => {
  for (const bad of [1.5, 2 ** 53, { a: "\ud800" }, { a: undefined }, NaN]) {
    assert.throws(() => mod.canonicalJSON(bad), mod.CanonicalError);
  }
});

test("vectors for Python", async () => {
  const out = { canonical: [], signed: [] };
  for (const value of cases.values) out.canonical.push(mod.canonicalJSON(value));
  for (const b of cases.ballots) {
    const r = await mod.prepareBallot({
      code: cases.code,
      consultationId: cases.consultation_id,
      specHash: cases.spec_hash,
      answers: b.answers,
      rows: b.rows,
      seq: b.seq,
    });
    assert.equal(r.receipt, await mod.receiptHash(r.ballot, r.signature));
    out.signed.push(r);
  }
  out.seed = mod.toHex(await mod.deriveSeed(cases.code, cases.consultation_id));
  out.unsigned_receipt = await mod.receiptHash(cases.values[0], null);
  writeFileSync(process.env.BEFFROI_JS_OUT, JSON.stringify(out));
});
