// Beffroi — the answering page: collect answers, sign (credentialed) or solve the
// proof-of-work challenge (open), POST, show the receipt. No inline script: the
// page passes its data through data-* attributes of the form.
import {
  CodeError,
  codeFromHash,
  normalizeCode,
  prepareBallot,
  makeBallot,
  receiptHash,
} from "./ballot.js";

const form = document.getElementById("ballot-form");
const encoder = new TextEncoder();

// UI text comes translated from the page (data-msg-*, placeholders in braces):
// this file holds none, so the English page speaks English.
function t(name, values) {
  let text = (form && form.dataset["msg" + name]) || name;
  for (const [k, v] of Object.entries(values || {})) text = text.replace(`{${k}}`, v);
  return text;
}

// ballot.js words a bad code in French; the page gives each fault in its language.
function codeFault(err) {
  if (err instanceof CodeError && form.dataset[`msgCode${err.reason}`]) {
    return t(`Code${err.reason}`, err.values);
  }
  return err && err.message ? err.message : String(err);
}

function $(id) {
  return document.getElementById(id);
}

function say(text) {
  $("status").textContent = text;
}

function fail(text) {
  say("");
  const box = $("error");
  box.textContent = text;
  // Keyboard and screen-reader users land on the message, not on a stale button.
  box.focus();
}

// A question is a fieldset named by its legend, or (a lone text field) a plain block
// whose field carries its own label.
function questionName(fs) {
  const own = fs.querySelector(":scope > legend, :scope > label.qlabel").firstChild.textContent.trim();
  const block = fs.closest("fieldset.row-block");
  return block ? `${block.querySelector("legend").textContent.trim()} — ${own}` : own;
}

// Required questions left blank, named by their labels and linked, before anything
// is signed or sent (the server would refuse them too, naming only their codes).
function checkRequired() {
  const box = $("error");
  box.textContent = "";
  const filledRows = new Set();
  for (const fs of form.querySelectorAll(".question")) {
    invalidTarget(fs).removeAttribute("aria-invalid");
    if (fs.dataset.row !== "" && fieldValue(fs) !== undefined) filledRows.add(fs.dataset.row);
  }
  const missing = [...form.querySelectorAll(".question[data-required]")].filter(
    (fs) => (fs.dataset.row === "" || filledRows.has(fs.dataset.row)) && fieldValue(fs) === undefined,
  );
  if (!missing.length) return true;
  say("");
  box.append(`${t(missing.length > 1 ? "MissingMany" : "MissingOne")} `);
  missing.forEach((fs, i) => {
    invalidTarget(fs).setAttribute("aria-invalid", "true");
    const link = document.createElement("a");
    link.href = `#${fs.id}`;
    link.textContent = questionName(fs);
    link.addEventListener("click", (event) => {
      event.preventDefault();
      fs.querySelector("input, textarea").focus();
    });
    if (i) box.append(", ");
    box.append(link);
  });
  // « … à l'école ? » then a full stop would read "?.".
  if (!/[?!.…]$/.test(questionName(missing[missing.length - 1]))) box.append(".");
  box.focus();
  return false;
}

// A group (fieldset) is marked invalid as a whole; a lone field is marked itself,
// where a screen reader announces it.
function invalidTarget(fs) {
  return fs.tagName === "FIELDSET" ? fs : fs.querySelector("textarea, input");
}

function fieldValue(fs) {
  const kind = fs.dataset.kind;
  const inputs = [...fs.querySelectorAll("input, textarea")];
  if (kind === "multiple") {
    const picked = inputs.filter((i) => i.checked).map((i) => i.value);
    return picked.length ? picked : undefined;
  }
  if (kind === "text") {
    const v = inputs[0].value;
    return v.trim() ? v : undefined;
  }
  const chosen = inputs.find((i) => i.checked);
  if (!chosen) return undefined;
  return kind === "scale" ? Number.parseInt(chosen.value, 10) : chosen.value;
}

function collect() {
  const nRows = Number.parseInt(form.dataset.rows, 10) || 0;
  const answers = {};
  const rows = Array.from({ length: nRows }, () => ({}));
  for (const fs of form.querySelectorAll(".question")) {
    const value = fieldValue(fs);
    if (value === undefined) continue;
    if (fs.dataset.row === "") answers[fs.dataset.code] = value;
    else rows[Number.parseInt(fs.dataset.row, 10)][fs.dataset.code] = value;
  }
  return { answers, rows };
}

function leadingZeroBits(bytes) {
  let bits = 0;
  for (const b of bytes) {
    if (b === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(b) - 24;
  }
  return bits;
}

async function solveChallenge() {
  const resp = await fetch(form.dataset.challengeUrl, { credentials: "same-origin" });
  if (!resp.ok) throw new Error(t("NoChallenge"));
  const { challenge, bits } = await resp.json();
  say(t("Pow"));
  for (let nonce = 0; ; nonce++) {
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", encoder.encode(`${challenge}:${nonce}`)),
    );
    if (leadingZeroBits(digest) >= bits) return { challenge, nonce: String(nonce) };
  }
}

function codeInForm() {
  const input = $("code");
  if (!input || !input.value.trim()) return null;
  try {
    return normalizeCode(input.value);
  } catch (err) {
    // The fault is worded to fit inside another sentence (a bad link's); alone, it
    // is a sentence of its own.
    const fault = codeFault(err);
    throw new Error(fault.charAt(0).toUpperCase() + fault.slice(1));
  }
}

// The server would refuse too few filled rows with a message naming no row.
function checkRows(rows) {
  const minRows = Number.parseInt(form.dataset.rowsMin, 10) || 0;
  if (rows.filter((r) => Object.keys(r).length).length < minRows) throw new Error(t("NeedRows"));
}

async function buildPayload() {
  const { answers, rows } = collect();
  const cid = form.dataset.cid;
  const specHash = form.dataset.specHash;
  const access = form.dataset.access;
  const honeypot = form.querySelector(".hp input");
  const code = access === "open" ? null : codeInForm();
  if (code) {
    checkRows(rows);
    say(t("Signing"));
    const prepared = await prepareBallot({ code, consultationId: cid, specHash, answers, rows });
    return { body: { ballot: prepared.ballot, signature: prepared.signature }, receipt: prepared.receipt };
  }
  if (access === "credentialed") {
    throw new Error(t("NeedCode"));
  }
  const segmentSelect = $("segment");
  const segment = segmentSelect ? segmentSelect.value || null : null;
  if (segmentSelect && !segment) throw new Error(t("NeedSegment"));
  checkRows(rows);
  // Two people may give the same answers: a random part keeps their ballots distinct.
  const seq = Date.now() * 1000 + Math.floor(Math.random() * 1000);
  const ballot = makeBallot({ consultationId: cid, specHash, publicKey: null, seq, answers, rows, segment });
  const pow = await solveChallenge();
  return {
    body: { ballot, signature: null, pow, site_web: honeypot ? honeypot.value : "" },
    receipt: await receiptHash(ballot, null),
  };
}

// A wait of ten minutes reads « 10 min », rounded up, not « 587 s »; the last minute
// counts down in seconds.
function waitText(seconds) {
  if (seconds >= 60) return t("Minutes", { n: Math.ceil(seconds / 60) });
  return t("Seconds", { n: seconds });
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function send(payload) {
  for (;;) {
    const resp = await fetch(form.dataset.submitUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload.body),
      credentials: "same-origin",
    });
    const data = await resp.json().catch(() => ({ message: t("Unreadable") }));
    if (resp.status === 429) {
      // Slowed down, never dropped: wait as asked and send the same answer again.
      const wait = Number(data.retry_after) || 30;
      for (let left = wait; left > 0; left--) {
        say(`${data.message} ${t("RetryIn", { time: waitText(left) })}`);
        await sleep(1000);
      }
      if (payload.body.pow) payload.body.pow = await solveChallenge();
      continue;
    }
    return { ok: resp.ok && data.ok, data };
  }
}

// An unsigned answer, once recorded, is never replaced: a second tap on the same
// page would add a second response, which the page asks not to do.
let recordedUnsigned = false;

async function onSubmit(event) {
  event.preventDefault();
  if (recordedUnsigned) return;
  if (!checkRequired()) return;
  const button = $("send");
  button.disabled = true;
  try {
    const payload = await buildPayload();
    say(t("Sending"));
    const { ok, data } = await send(payload);
    if (!ok) {
      fail(data.message || t("Refused"));
      return;
    }
    if (data.receipt !== payload.receipt) {
      fail(t("Mismatch"));
      return;
    }
    say(t(data.new ? "Saved" : "Already"));
    $("receipt").textContent = data.receipt;
    // Only a code's later answer replaces the earlier one: unsigned answers add up.
    $("again-signed").hidden = !payload.body.signature;
    $("again-unsigned").hidden = Boolean(payload.body.signature);
    recordedUnsigned = !payload.body.signature;
    const link = $("receipt-link");
    link.href = `${form.dataset.receiptUrl}?recu=${data.receipt}`;
    $("receipt-box").hidden = false;
    $("receipt-box").scrollIntoView({ block: "start" });
    $("receipt-title").focus();
  } catch (err) {
    fail(err && err.message ? err.message : String(err));
  } finally {
    button.disabled = recordedUnsigned;
  }
}

// Switching the page's language goes through the server, which never sees the URL
// fragment: the letter's code would be lost on the way. It waits in this tab's
// sessionStorage (never sent anywhere) and is put back in the fragment on arrival.
const CARRIED = "beffroi-code-fragment";

function carryFragmentAcrossLanguageSwitch() {
  for (const langForm of document.querySelectorAll("form.lang")) {
    langForm.addEventListener("submit", () => {
      try {
        if (location.hash) sessionStorage.setItem(CARRIED, `${location.pathname}${location.hash}`);
      } catch (err) {
        // Storage refused (private mode): the code is typed again, as before.
      }
    });
  }
  let carried = null;
  try {
    carried = sessionStorage.getItem(CARRIED);
    sessionStorage.removeItem(CARRIED);
  } catch (err) {
    return;
  }
  if (!carried || location.hash) return;
  const at = carried.indexOf("#");
  if (carried.slice(0, at) === location.pathname) {
    history.replaceState(null, "", `${location.pathname}${location.search}${carried.slice(at)}`);
  }
}

if (form) {
  carryFragmentAcrossLanguageSwitch();
  try {
    const code = codeFromHash(location.hash);
    const input = $("code");
    if (code && input) {
      input.value = code.replace(/(.{4})(?!$)/g, "$1-");
    }
  } catch (err) {
    fail(t("BadLink", { error: codeFault(err) }));
  }
  const codeInput = $("code");
  const segmentBox = $("segment-box");
  if (codeInput && segmentBox) {
    // With a code the segment comes from the credential list; without one it is asked.
    const sync = () => {
      segmentBox.hidden = codeInput.value.trim() !== "";
    };
    codeInput.addEventListener("input", sync);
    sync();
  }
  form.addEventListener("submit", onSubmit);
}
