// Beffroi — browser side of a credentialed ballot (plain ES module, no bundler).
//
// The credential code travels in the URL fragment (never sent to the server).
// From it this module derives the Ed25519 key exactly as
// src/beffroi/consult/credentials.py does, builds the ballot, encodes it
// byte-for-byte like src/beffroi/consult/canonical.py, and signs it with
// WebCrypto. docs/formats/ballot.md is the reference for every step.
//
//   import { prepareBallot } from "/static/consult/ballot.js";
//   const { ballot, public_key, signature, receipt } = await prepareBallot({
//     code: codeFromHash(location.hash), consultationId, specHash, answers, rows });
//   // POST {ballot, signature} to the server; show `receipt` to the respondent.

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CODE_CHARS = 24;
const SALT_PREFIX = "beffroi/credential/v1/";
const INFO = "ed25519-seed";
const DOMAIN = "beffroi-ballot/1\n";
// PKCS#8 header of an Ed25519 private key (RFC 8410); the 32-byte seed follows.
const PKCS8_ED25519 = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

const encoder = new TextEncoder();
const subtle = globalThis.crypto.subtle;

// ``reason`` and ``values`` let a page word the fault in its reader's language
// (answer.js); the message stays French for the other callers.
export class CodeError extends Error {
  constructor(message, reason, values = {}) {
    super(message);
    this.reason = reason;
    this.values = values;
  }
}
export class CanonicalError extends Error {}

// --- credential code ----------------------------------------------------------

const VALUE = new Map([...ALPHABET].map((c, i) => [c, i]));
VALUE.set("O", 0);
VALUE.set("I", 1);
VALUE.set("L", 1);

// Multiplication by the generator of GF(32) (x^5 + x^2 + 1), as in credentials.py.
function gf32Double(x) {
  x <<= 1;
  return x & 0x20 ? x ^ 0x25 : x;
}

function checkValue(values) {
  let interim = 0;
  for (const v of values) interim = gf32Double(interim) ^ v;
  return gf32Double(interim);
}

/** Upper-case, drop spaces and dashes, read O as 0 and I/L as 1, check the last character. */
export function normalizeCode(code) {
  const raw = [...String(code).toUpperCase()].filter((c) => !" -\t\n".includes(c));
  const bad = raw.find((c) => !VALUE.has(c));
  if (bad !== undefined) throw new CodeError(`caractère invalide « ${bad} » dans le code`, "Char", { char: bad });
  if (raw.length !== CODE_CHARS) {
    throw new CodeError(`le code doit compter ${CODE_CHARS} caractères, tirets non compris (il en compte ${raw.length})`, "Length", {
      n: CODE_CHARS,
      got: raw.length,
    });
  }
  const values = raw.map((c) => VALUE.get(c));
  if (checkValue(values.slice(0, -1)) !== values[values.length - 1]) {
    throw new CodeError("code erroné : vérifiez chaque caractère (faute de frappe ?)", "Check");
  }
  return values.map((v) => ALPHABET[v]).join("");
}

/** The normalised code held in a URL fragment ("#ABCD-…"), or null when there is none. */
export function codeFromHash(hash) {
  let text;
  try {
    text = decodeURIComponent(String(hash ?? "").replace(/^#/, "")).trim();
  } catch {
    throw new CodeError("lien illisible : recopiez le code imprimé sur la lettre", "Link");
  }
  return text ? normalizeCode(text) : null;
}

// --- key derivation -------------------------------------------------------------

/** HKDF-SHA256(ikm = code, salt = "beffroi/credential/v1/" + id, info = "ed25519-seed"). */
export async function deriveSeed(code, consultationId) {
  const ikm = await subtle.importKey("raw", encoder.encode(normalizeCode(code)), "HKDF", false, [
    "deriveBits",
  ]);
  const bits = await subtle.deriveBits(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: encoder.encode(SALT_PREFIX + consultationId),
      info: encoder.encode(INFO),
    },
    ikm,
    256,
  );
  return new Uint8Array(bits);
}

/** Import a 32-byte seed as an Ed25519 signing key; also returns the public key (hex). */
export async function importSeed(seed) {
  const pkcs8 = new Uint8Array(PKCS8_ED25519.length + 32);
  pkcs8.set(PKCS8_ED25519);
  pkcs8.set(seed, PKCS8_ED25519.length);
  // Extractable only so that the JWK export below yields the public key ("x").
  const privateKey = await subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, true, ["sign"]);
  const jwk = await subtle.exportKey("jwk", privateKey);
  return { privateKey, publicKey: toHex(fromBase64Url(jwk.x)) };
}

// --- canonical JSON ----------------------------------------------------------------

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function encodeString(s, path) {
  if (LONE_SURROGATE.test(s)) throw new CanonicalError(`${path || "/"}: chaîne non encodable`);
  // JSON.stringify escapes exactly what Python's json.dumps(ensure_ascii=False) does.
  return JSON.stringify(s);
}

function encode(value, path) {
  if (value === null) return "null";
  if (value === true) return "true";
  if (value === false) return "false";
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) {
      throw new CanonicalError(`${path || "/"}: entiers seulement (±2^53-1)`);
    }
    return String(value === 0 ? 0 : value);
  }
  if (typeof value === "string") return encodeString(value, path);
  if (Array.isArray(value)) return `[${value.map((v, i) => encode(v, `${path}/${i}`)).join(",")}]`;
  if (typeof value === "object") {
    // Default sort compares UTF-16 code units: the order canonical.py uses.
    const keys = Object.keys(value).sort();
    const parts = keys.map((k) => {
      if (value[k] === undefined) throw new CanonicalError(`${path}/${k}: valeur indéfinie`);
      return `${encodeString(k, path)}:${encode(value[k], `${path}/${k}`)}`;
    });
    return `{${parts.join(",")}}`;
  }
  throw new CanonicalError(`${path || "/"}: type non encodable ${typeof value}`);
}

/** The canonical JSON text of a value (see docs/formats/ballot.md). */
export function canonicalJSON(value) {
  return encode(value, "");
}

export function canonicalBytes(value) {
  return encoder.encode(canonicalJSON(value));
}

// --- ballots -------------------------------------------------------------------------

/** A ballot object; `rows` defaults to empty rows, `segment` to null (keyed ballots). */
export function makeBallot({ consultationId, specHash, publicKey, seq, answers, rows, segment }) {
  return {
    v: 1,
    consultation: consultationId,
    spec_hash: specHash,
    public_key: publicKey ?? null,
    seq,
    segment: segment ?? null,
    answers: answers ?? {},
    rows: rows ?? [],
  };
}

/** The bytes Ed25519 signs: the domain line, then the canonical ballot. */
export function signedBytes(ballot) {
  return encoder.encode(DOMAIN + canonicalJSON(ballot));
}

export async function signBallot(ballot, privateKey) {
  const sig = await subtle.sign({ name: "Ed25519" }, privateKey, signedBytes(ballot));
  return toHex(new Uint8Array(sig));
}

/** The receipt: SHA-256 of signedBytes + "\n" + signature hex (or "-" when unsigned). */
export async function receiptHash(ballot, signature) {
  const body = signedBytes(ballot);
  const tail = encoder.encode(`\n${signature ?? "-"}`);
  const all = new Uint8Array(body.length + tail.length);
  all.set(body);
  all.set(tail, body.length);
  return toHex(new Uint8Array(await subtle.digest("SHA-256", all)));
}

/**
 * Everything the answering page needs: derive the key from the code, build and
 * sign the ballot. `seq` defaults to the time in milliseconds, so that a later
 * answer from the same code replaces an earlier one (see ballot.md).
 */
export async function prepareBallot({ code, consultationId, specHash, answers, rows, seq }) {
  const seed = await deriveSeed(code, consultationId);
  const { privateKey, publicKey } = await importSeed(seed);
  const ballot = makeBallot({
    consultationId,
    specHash,
    publicKey,
    seq: seq ?? Date.now(),
    answers,
    rows,
  });
  const signature = await signBallot(ballot, privateKey);
  return { ballot, public_key: publicKey, signature, receipt: await receiptHash(ballot, signature) };
}

// --- helpers ---------------------------------------------------------------------------

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function fromBase64Url(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}
