// Triage room: keyboard-first queue, claim/release, one-key decisions, live via SSE.
// No inline script (strict CSP): configuration comes from data-* attributes.
(function () {
  "use strict";
  const root = document.getElementById("triage");
  if (!root) return;
  const queueUrl = root.dataset.queueUrl;
  const streamUrl = root.dataset.streamUrl;
  // data-card-url is the claim URL of card 0: ".../cartes/0/prendre/".
  const cardBase = root.dataset.cardUrl.replace(/0\/prendre\/$/, "");
  const csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  const list = document.getElementById("queue");
  const total = document.getElementById("total");
  const live = document.getElementById("live");
  const panel = document.getElementById("panel");
  const error = document.getElementById("panel-error");
  const filters = document.getElementById("filters");
  const sourceButtons = panel.querySelectorAll("[data-source-type]");
  const forPartners = document.getElementById("for-partners");
  let partnersTouched = false;
  // Messages come translated from the page (data-msg-*, placeholders in braces:
  // a "%" in {% translate %} would change its msgid): this file holds no UI text.
  function msg(name, values) {
    let text = root.dataset["msg" + name] || name;
    for (const [k, v] of Object.entries(values || {})) text = text.replace("{" + k + "}", v);
    return text;
  }
  // Which form a count takes in the page's language (French: 0 and 1 are singular,
  // English: only 1); the page gives each form, as the catalogue writes it.
  const lang = document.documentElement.lang || "fr";
  const plural = new Intl.PluralRules(lang);
  const integer = new Intl.NumberFormat(lang);
  function counted(name, n) {
    const form = plural.select(n) === "one" ? "One" : "Other";
    return msg(name + form, { n: integer.format(n) });
  }
  // stream.js: the live stream (reconnects after a refusal, later each time, and says
  // so), and what the queue's own answers say of the session.
  const watch = window.beffroiLive.page({
    root: root,
    status: live,
    number: (n) => integer.format(n),
    words: {
      ended: msg("QueueSession"),
      forbidden: msg("QueueForbidden"),
      unexpected: msg("Unexpected"),
      interrupted: msg("Interrupted"),
    },
    session: true,
    url: streamUrl,
    change: () => refreshSoon(),
    reload: () => load(),
  });
  // Cards arriving are announced as one count of waiting cards, never card by card,
  // and at most every NEWS_EVERY ms: a busy queue must not drown a screen reader.
  // A count that falls (cards settled) is not news; the visible total shows it.
  const news = document.getElementById("queue-news");
  const NEWS_EVERY = 20000;
  let newsSaid = null, newsAt = 0, newsTimer = null, latestTotal = 0;
  function announce() {
    if (!news) return;
    if (newsSaid === null || latestTotal <= newsSaid) { newsSaid = latestTotal; return; }
    const wait = newsAt + NEWS_EVERY - Date.now();
    if (wait > 0) {
      if (!newsTimer) newsTimer = setTimeout(() => { newsTimer = null; announce(); }, wait);
      return;
    }
    newsSaid = latestTotal;
    newsAt = Date.now();
    news.textContent = counted("Waiting", latestTotal);
  }
  // A held card is freed after claimSeconds without a decision (actions.CLAIM_TIMEOUT).
  // Before that the panel says when, and « Garder la carte » (or g) takes it again for
  // the full time: no one loses a card while still reading or writing (WCAG 2.2.1).
  const claimMs = Number(root.dataset.claimSeconds || 0) * 1000;
  const expiry = document.getElementById("panel-expiry");
  let expiryTimer = null;
  function clock(ms) {
    return new Date(ms).toLocaleTimeString(document.documentElement.lang || "fr",
      { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  }
  function watchExpiry() {
    clearTimeout(expiryTimer);
    expiry.hidden = true;
    if (!held || !claimMs) return;
    const until = Date.now() + claimMs;
    // Two minutes ahead, or half the time when it is shorter.
    expiryTimer = setTimeout(() => {
      document.getElementById("panel-expiry-text").textContent = msg("Expiry", { time: clock(until) });
      expiry.hidden = false;
    }, claimMs - Math.min(120000, claimMs / 2));
  }
  async function keep() {
    if (!held) return;
    const res = await post(url(held.id, "prendre"));
    if (res.ok) {
      watchExpiry();
      live.textContent = msg("Kept", { time: clock(Date.now() + claimMs) });
    } else { error.textContent = res.error; }
  }
  // On a phone (one column, the width of watch.css) the held card is shown above the
  // queue: it is moved there in the document, not with CSS order, so that a screen
  // reader and Tab meet it where it is seen (WCAG 1.3.2, 2.4.3); on a wide screen it
  // follows the queue, in the right-hand column. Moved only when the layout changes
  // (a phone turned, a window resized), keeping the focus and the caret it held.
  const queueBox = list.closest("section");
  const oneColumn = window.matchMedia("(max-width: 50rem)");
  function placePanel() {
    const first = oneColumn.matches;
    if ((panel.nextElementSibling === queueBox) === first) return;
    const active = document.activeElement;
    const inside = panel.contains(active);
    const caret = inside && active.tagName === "TEXTAREA"
      ? [active.selectionStart, active.selectionEnd, active.scrollTop] : null;
    if (first) queueBox.before(panel); else queueBox.after(panel);
    if (inside) {
      active.focus({ preventScroll: true });
      if (caret) { active.setSelectionRange(caret[0], caret[1]); active.scrollTop = caret[2]; }
    }
  }
  oneColumn.addEventListener("change", placePanel);
  placePanel();

  let cards = [];
  let selected = null; // card id under the cursor
  let held = null; // card object claimed by me

  function url(id, verb) { return cardBase + id + "/" + verb + "/"; }

  // An answer that is not the view's JSON: stream.js judges it, the same way for the
  // queue as for the main courante's rows (the log-in page, a 403, a portal's page).
  function json(r) {
    return (r.headers.get("Content-Type") || "").includes("application/json");
  }

  async function post(target, data) {
    const body = new URLSearchParams(data || {});
    const send = () => fetch(target, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "Accept": "application/json" },
    });
    let r = await send();
    // A server error rolled the whole action back (one transaction): trying
    // again once cannot record anything twice.
    if (r.status >= 500) {
      await new Promise((ok) => setTimeout(ok, 400));
      r = await send();
    }
    // An expired session (a logout in another tab: fetch followed the redirect to the
    // log-in page) or a 403 (a CSRF refusal, a role taken away): nothing was recorded,
    // and the panel keeps what was typed.
    const kind = watch.judge(r, target, json(r));
    if (kind === "ended") return { ok: false, error: msg("Session"), status: 401 };
    if (kind === "forbidden") return { ok: false, error: msg("Forbidden"), status: 403 };
    // Something between the browser and the server answered: whether the action reached
    // the server is unknown, and the queue (asked next) shows what became of the card.
    if (!json(r) && (r.ok || r.redirected)) {
      return { ok: false, error: msg("ActionUnexpected"), status: r.status, unexpected: true };
    }
    let payload = {};
    try { payload = await r.json(); } catch (e) { payload = { ok: false, error: msg("Error", { status: r.status }) }; }
    payload.status = r.status;
    return payload;
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  // "0,69" in French, "0.69" in English: the page's language decides, not the JSON.
  const prio = new Intl.NumberFormat(document.documentElement.lang || "fr",
    { minimumFractionDigits: 2, maximumFractionDigits: 2 });

  function render() {
    // The list is rebuilt: a keyboard user's focus on a card moves to the same card's
    // new node (it would fall back to the page's start), never into the list otherwise.
    const focused = list.contains(document.activeElement);
    list.replaceChildren();
    for (const c of cards) {
      const li = el("li", "qcard");
      li.dataset.card = c.id;
      li.tabIndex = -1;
      if (c.claimed && !c.mine) li.classList.add("taken");
      if (c.mine) li.classList.add("mine");
      if (c.id === selected) { li.classList.add("selected"); li.setAttribute("aria-current", "true"); }
      const head = el("div", "qhead");
      // Named for screen readers: a bare « 0,90 » read first says nothing.
      head.append(el("span", "sr-only", msg("Priority") + " "), el("span", "prio", prio.format(c.priority)));
      if (c.count > 1) head.append(el("span", "count", "×" + c.count));
      if (c.commune) head.append(el("span", "commune", c.commune));
      if (c.lang) {
        // The language's name in the reader's language; its code on hover, and shown
        // when no name is known.
        const badge = el("span", "lang", c.lang_label || c.lang);
        badge.title = c.lang;
        head.append(badge);
      }
      head.append(el("span", "kind", c.source_kind_label));
      if (c.source_type) {
        head.append(el("span", c.source_corrected ? "stype corrected" : "stype", c.source_type_label));
      }
      if (c.author_change) {
        head.append(el("span", "author-change", msg(c.author_change === "deleted" ? "AuthorDeleted" : "AuthorEdited")));
      }
      if (c.claimed && !c.mine) head.append(el("span", "taken-by", msg("TakenBy") + " " + c.claimed_by));
      if (c.mine) head.append(el("span", "taken-by", msg("TakenByMe")));
      li.append(head, el("p", "qtext", c.text));
      // Only the marks change: rebuilding the list here would put the second click of
      // a double click (a double tap, on a phone) on a new node, and no card is taken.
      // The cursor never rests on a card someone else holds (a tap on it used to put it
      // there, and Enter then met a refusal); a double tap still says who holds it.
      li.addEventListener("click", () => { if (!c.claimed || c.mine) { selected = c.id; mark(); } });
      li.addEventListener("dblclick", () => { selected = c.id; claimSelected(); });
      list.append(li);
    }
    if (focused) {
      const node = list.querySelector("[data-card='" + selected + "']");
      if (node) node.focus({ preventScroll: true });
    }
  }

  function mark() {
    for (const node of list.children) {
      const on = node.dataset.card === String(selected);
      node.classList.toggle("selected", on);
      if (on) node.setAttribute("aria-current", "true");
      else node.removeAttribute("aria-current");
    }
  }

  // Loads overlap (a live change, a claim): a response may describe the queue from
  // before a claim this page made since. Only the newest response is applied, and
  // only one asked after the last claim may say the held card is gone.
  let loadsAsked = 0, loadsApplied = 0, claims = 0, lastShown = "";
  // A claim refused because someone else holds the card: its message must not
  // outlive that person's hold (« déjà prise » on a card free again).
  // { id, text, seen: the queue showed it held by another, asked: loads asked before it }
  let refused = null;

  async function load() {
    const asked = ++loadsAsked, claimsThen = claims;
    const params = new URLSearchParams(new FormData(filters));
    const target = queueUrl + "?" + params.toString();
    let r;
    try {
      r = await fetch(target, { credentials: "same-origin" });
      if (r.status >= 500) {
        await new Promise((ok) => setTimeout(ok, 400));
        r = await fetch(target, { credentials: "same-origin" });
      }
    } catch (_error) {
      return false; // offline: the stream's own retries (or the next change) ask again
    }
    const kind = watch.judge(r, target, json(r));
    if (kind) {
      // The cards stay, greyed (stream.js); the newest answer alone says so.
      if (asked < loadsApplied) return false;
      loadsApplied = asked;
      return watch.met(kind);
    }
    if (!r.ok) { live.textContent = msg("Unavailable", { status: r.status }); return false; }
    const data = await r.json();
    if (asked < loadsApplied) return false;  // a newer answer is already shown
    loadsApplied = asked;
    watch.fine();
    cards = data.cards;
    total.textContent = counted("Waiting", data.total);
    latestTotal = data.total;
    announce();
    if (held && claimsThen === claims && !cards.some((c) => c.id === held.id && c.mine)) {
      // Someone else settled it (or the claim expired): say so instead of failing later.
      closePanel(msg("NotYours"));
    }
    // Only a queue asked after the refusal tells what became of the card: one asked
    // before it may show the card free from before it was taken.
    if (refused && asked > refused.asked) {
      const card = cards.find((c) => c.id === refused.id);
      if (card && card.claimed && !card.mine) refused.seen = true;
      else {
        // Released: say it may be taken now; settled (gone from the queue): nothing
        // left to say. Only once this page has seen the card held by someone (before the
        // tap, or in a queue after it): a queue showing it free without that may be
        // older than the claim that beat ours, and « déjà traitée » keeps its message.
        if (refused.seen && live.textContent === refused.text) {
          live.textContent = card ? msg("FreeAgain") : "";
        }
        refused = null;
      }
    }
    const free = cards.filter((c) => !c.claimed || c.mine);
    // The cursor never rests on a card someone else holds.
    if (!free.some((c) => c.id === selected)) selected = free.length ? free[0].id : null;
    // An answer that changes nothing keeps the list's nodes (scroll, a tap in progress).
    const shown = JSON.stringify([cards, selected]);
    if (shown === lastShown) return false;
    lastShown = shown;
    render();
    return false;
  }

  function openPanel(card) {
    held = card;
    panel.hidden = false;
    error.textContent = "";
    document.getElementById("panel-text").textContent = card.text;
    const meta = [card.commune, card.info_type_label, card.source_kind_label, card.lang_label || card.lang, when(card.posted_at)]
      .filter(Boolean).join(" · ");
    document.getElementById("panel-meta").textContent = meta;
    showSource(card);
    const why = document.getElementById("panel-why");
    why.replaceChildren(...(card.explanation || []).map((t) => el("li", "", t)));
    if (card.url) {
      const a = el("a", "", msg("Original"));
      a.href = card.url; a.target = "_blank"; a.rel = "noopener noreferrer";
      why.append(el("li")); why.lastChild.append(a);
    }
    document.getElementById("notes").value = "";
    document.getElementById("line-text").value = "";
    document.getElementById("evidence").value = "";
    document.getElementById("verification").value = "";
    // Each card starts unshared and untouched: the box follows its verification.
    partnersTouched = false;
    followVerification();
    watchExpiry();
    // On a phone the panel sits above a long queue, out of sight after a tap on a card.
    panel.scrollIntoView({ block: "nearest" });
  }

  // In the page's language and the browser's time zone, not the ISO form of the JSON;
  // on the 24-hour clock in every language, as the main courante's lines are.
  function when(iso) {
    const d = new Date(iso);
    if (!iso || isNaN(d.getTime())) return "";
    return d.toLocaleString(document.documentElement.lang || "fr", {
      dateStyle: "short",
      timeStyle: "short",
      hourCycle: "h23",
    });
  }

  function showSource(card) {
    document.getElementById("panel-source").textContent = card.source_type_label || "—";
    document.getElementById("panel-source-how").textContent = card.source_type
      ? "(" + msg(card.source_corrected ? "SourceCorrected" : "SourceGuessed") + ")" : "";
    for (const b of sourceButtons) {
      const on = card.source_corrected && b.dataset.sourceType === card.source_type;
      b.setAttribute("aria-pressed", on ? "true" : "false");
    }
  }

  async function setSource(value) {
    if (!held) return;
    const res = await post(url(held.id, "source"), { source_type: value });
    if (res.ok) {
      held = res.card;
      showSource(res.card);
      error.textContent = "";
      live.textContent = msg("SourceSet", { label: res.card.source_type_label });
    } else { error.textContent = res.error; }
  }

  function closePanel(message) {
    held = null;
    watchExpiry();
    // A control of the panel that had the focus disappears with it: the focus goes to
    // the card under the cursor (where j/k and Entrée go on), not back to the page's top.
    const inside = panel.contains(document.activeElement);
    panel.hidden = true;
    if (message) live.textContent = message;
    if (inside) {
      const node = list.querySelector("[data-card='" + selected + "']");
      if (node) node.focus();
    }
  }

  async function claimSelected() {
    if (selected === null) return;
    // The card tapped, and whether the queue showed it held, as they were when it was
    // tapped: a queue refresh landing while the claim is on its way moves the cursor off
    // a held card, and the refusal was then pinned on the next free card (« déjà prise »
    // stayed on screen after the card it was about was released or settled).
    const id = selected;
    const heldByOther = () => cards.some((c) => c.id === id && c.claimed && !c.mine);
    const shownHeld = heldByOther();
    const res = await post(url(id, "prendre"));
    if (res.ok) { claims += 1; refused = null; openPanel(res.card); live.textContent = msg("Claimed"); }
    else {
      live.textContent = res.error;
      // Only a 409 met the card's state (held by someone, or settled); any other failure
      // (an expired session, a server error) keeps its message whatever the queue shows.
      if (res.status === 409) {
        // Seen held when tapped, or by a queue that came in meanwhile.
        refused = { id: id, text: res.error, seen: shownHeld || heldByOther(), asked: loadsAsked };
      }
    }
    await load();
  }

  // The valve: a line goes to the partners ticked by default only once verified. The
  // box follows the verification select until the volunteer ticks or unticks it
  // themselves; from then on their choice stands for this card.
  function followVerification() {
    if (partnersTouched) return;
    forPartners.checked = document.getElementById("verification").value === "verified";
  }

  async function decide(decision) {
    if (!held) return;
    const res = await post(url(held.id, "decider"), {
      decision: decision,
      notes: document.getElementById("notes").value,
      evidence: document.getElementById("evidence").value,
    });
    if (res.ok) { closePanel(msg("Decided")); await load(); }
    else { error.textContent = res.error; }
  }

  async function escalate() {
    if (!held) return;
    const res = await post(url(held.id, "escalader"), {
      category: document.getElementById("category").value,
      // The line's own text (empty: the post's); the note stays the team's.
      text: document.getElementById("line-text").value,
      notes: document.getElementById("notes").value,
      for_partners: forPartners.checked ? "1" : "0",
      // The verdict sent with the line: a decision of its own, and the line's
      // verification column (a decided card leaves the queue and cannot be sent).
      decision: document.getElementById("verification").value,
      evidence: document.getElementById("evidence").value,
    });
    if (res.ok) { closePanel(msg("Escalated", { n: res.entry })); await load(); }
    else { error.textContent = res.error; }
  }

  async function release() {
    if (!held) return;
    const res = await post(url(held.id, "relacher"));
    // An expired session released nothing, and an unknown answer may not have: say so,
    // the card stays open here.
    if (res.status === 401 || res.status === 403 || res.unexpected) { error.textContent = res.error; return; }
    closePanel(msg("Released"));
    await load();
  }

  function move(step) {
    const free = cards.filter((c) => !c.claimed || c.mine);
    if (!free.length) return;
    let i = free.findIndex((c) => c.id === selected);
    i = Math.max(0, Math.min(free.length - 1, i + step));
    selected = free[i].id;
    render();
    const node = list.querySelector("[data-card='" + selected + "']");
    // Focused, so that a screen reader reads the card j/k moved to (aria-current
    // alone is not announced); the key handlers listen on the whole document.
    if (node) { node.focus({ preventScroll: true }); node.scrollIntoView({ block: "nearest" }); }
  }

  document.addEventListener("keydown", (ev) => {
    const typing = ev.target.closest && ev.target.closest("input, textarea, select");
    if (ev.key === "Escape") { if (typing) ev.target.blur(); else release(); return; }
    if (typing || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    // On a French AZERTY keyboard the digit row types & é " ' ( - unshifted: the
    // physical key (ev.code) says which decision was meant.
    let key = ev.key;
    const digit = /^(?:Digit|Numpad)([0-9])$/.exec(ev.code || "");
    if (digit && !/^[0-9]$/.test(key)) key = digit[1];
    // Escaped: a key such as ' or ] would otherwise break the selector.
    const keyed = panel.querySelector("[data-key=\"" + CSS.escape(key) + "\"]");
    if (keyed && held) {
      ev.preventDefault();
      if (keyed.dataset.decision) decide(keyed.dataset.decision);
      else setSource(keyed.dataset.sourceType);
      return;
    }
    if (ev.key === "j" || ev.key === "ArrowDown") { ev.preventDefault(); move(1); }
    else if (ev.key === "k" || ev.key === "ArrowUp") { ev.preventDefault(); move(-1); }
    else if (ev.key === "Enter") {
      // Enter on a focused link or button belongs to it (a tab, « Relâcher », the
      // original post): taking a card there would leave the keyboard user stranded.
      if (ev.target.closest && ev.target.closest("a[href], button, summary, [role=button]")) return;
      ev.preventDefault(); claimSelected();
    }
    else if (ev.key === "e" && held) { ev.preventDefault(); escalate(); }
    else if (ev.key === "g" && held && !expiry.hidden) { ev.preventDefault(); keep(); }
    else if (ev.key === "n" && held) { ev.preventDefault(); document.getElementById("notes").focus(); }
    else if (ev.key === "l" && held) { ev.preventDefault(); document.getElementById("line-text").focus(); }
  });
  for (const b of panel.querySelectorAll("[data-decision]")) {
    b.addEventListener("click", () => decide(b.dataset.decision));
  }
  for (const b of sourceButtons) {
    b.addEventListener("click", () => setSource(b.dataset.sourceType));
  }
  document.getElementById("verification").addEventListener("change", followVerification);
  forPartners.addEventListener("change", () => { partnersTouched = true; });
  document.getElementById("escalate").addEventListener("click", escalate);
  document.getElementById("release").addEventListener("click", release);
  document.getElementById("keep").addEventListener("click", keep);
  filters.addEventListener("change", load);
  filters.addEventListener("submit", (ev) => { ev.preventDefault(); load(); });

  let pending = null;
  function refreshSoon() {
    if (pending) return;
    pending = setTimeout(() => { pending = null; load(); }, 150);
  }
  if (window.EventSource) watch.start();
  else setInterval(load, 5000);
  load();
})();
