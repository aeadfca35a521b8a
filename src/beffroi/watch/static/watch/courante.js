// Main courante: rows re-fetched when the server-sent event stream says they changed.
// The same script serves a partner link's page, which also says when its link died.
(function () {
  "use strict";
  const root = document.getElementById("courante");
  if (!root) return;
  // The live part (count, page links, table) is replaced whole at each refresh.
  const rows = () => document.getElementById("courante-rows");
  const status = document.getElementById("live");
  // A partner link's page says which version its rows show: each fetch of its rows is a
  // journaled use of the link, so it fetches only when the stream announces another.
  let shown = root.dataset.version || null;
  let wanted = null;
  let pending = null;
  let watch = null; // stream.js's live page, set below
  let dead = false;
  let polling = null; // the fallback poll without EventSource
  let limited = null; // the server's sentence for rows asked too often, while shown
  // A row being edited (a new status or verification chosen but not sent, or the
  // focus on one of the table's forms) is not swept away by someone else's change: the
  // refresh waits until the edit is sent or left, at most MAX_WAIT. (A partner's page
  // has no forms: it never waits.)
  const MAX_WAIT = 60000;
  let waitingSince = null;
  function editing() {
    const here = document.activeElement;
    // A status note sits under its form (form="…"), not inside it.
    if (here && root.contains(here) && (here.closest("form") || here.form)) return true;
    for (const select of root.querySelectorAll("select")) {
      const first = [...select.options].find((o) => o.defaultSelected) || select.options[0];
      if (first && select.value !== first.value) return true;
    }
    // A status change's note typed but not sent yet.
    for (const input of root.querySelectorAll("input[name=note]")) {
      if (input.value !== input.defaultValue) return true;
    }
    return false;
  }

  // The highest line number shown (-1 before any line: the first ones are not news).
  function newest() {
    let n = -1;
    for (const row of root.querySelectorAll("tr[data-entry]")) n = Math.max(n, Number(row.dataset.entry));
    return n;
  }
  // An older page's notice of lines arrived at the top since it was drawn (the server
  // counts those this reader may see): said once more each time the count grows.
  function news() {
    const notice = root.querySelector("[data-news]");
    return notice ? { n: Number(notice.dataset.news), text: notice.textContent.trim() } : { n: 0, text: "" };
  }
  let announced = news().n;
  const plural = new Intl.PluralRules(document.documentElement.lang || "fr");
  const integer = new Intl.NumberFormat(document.documentElement.lang || "fr");
  function counted(n) {
    const form = plural.select(n) === "one" ? "One" : "Other";
    const body = rows();
    return ((body && body.dataset["msgNew" + form]) || "").replace("{n}", String(n));
  }

  function say(text, alarm) {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("link-gone", Boolean(alarm));
    status.classList.toggle("muted", !alarm);
  }

  function linkGone() {
    dead = true;
    // Nothing more to ask a dead link, with or without a stream.
    clearInterval(polling);
    polling = null;
    if (watch) watch.close();
    root.dataset.live = "off";
    root.classList.add("stale");
    say(root.dataset.gone, true);
  }

  function mustWait() {
    if (editing() && (waitingSince === null || Date.now() - waitingSince < MAX_WAIT)) {
      if (waitingSince === null) waitingSince = Date.now();
      return true;
    }
    return false;
  }

  // The rows' own answer, parsed apart from the page (inert: nothing in it loads or runs),
  // or null for any other page: a captive portal's or a proxy's page (a 200 in HTML too)
  // must never take the table's place.
  function fragment(html) {
    const box = document.createElement("template");
    box.innerHTML = html;
    return box.content.getElementById("courante-rows") ? box.content : null;
  }

  // ``check``: asked to learn whether the page still may read (the stream was refused,
  // a retry, the slow revive once the session ended): asked even while a row is being
  // edited, whose rows are then kept until the edit is sent or left.
  async function refresh(check) {
    if (dead) return;
    const waits = mustWait();
    if (waits && !check) return;
    const forced = !waits && editing(); // waited MAX_WAIT already: this refresh goes ahead
    if (!waits) waitingSince = null;
    const target = wanted;
    const url = root.dataset.rowsUrl;
    let r, part = null;
    try {
      r = await fetch(url, { credentials: "same-origin" });
      // A member's page asks once more at once. A partner link's does not: the server may
      // have journaled the use before failing, and a second ask is a second journaled use;
      // its 5xx waits like any unexpected answer (RETRY_FIRST s, then longer).
      if (r.status >= 500 && !root.dataset.gone) {
        await new Promise((ok) => setTimeout(ok, 400));
        r = await fetch(url, { credentials: "same-origin" });
      }
      if (r.ok) part = fragment(await r.text());
    } catch (_error) {
      return; // offline: the stream's own retries (or the next change) ask again
    }
    if (dead) return;
    if (root.dataset.gone && live.linkGone(r)) { linkGone(); return; }
    if (r.status === 429) { limited = await r.text(); say(limited); return; } // the server's own sentence
    // A 5xx retried already is waited out like a portal's page: said, asked again later.
    const kind = watch.judge(r, url, part !== null) || (part ? null : "unexpected");
    if (kind) { watch.met(kind); return; }
    watch.fine();
    if (limited && status.textContent === limited) say(""); // a limit said earlier is over
    limited = null;
    // An edit begun while the rows were on their way (a slow answer) is kept too; the
    // refresh happens once it is sent or left.
    if (!forced && mustWait()) return;
    const before = newest();
    root.replaceChildren(part); // the server's auto-escaped fragment
    if (shown !== null && target !== null) shown = target;
    // One polite sentence for what arrived, not the rows themselves (the table is
    // not a live region: a screen reader would read every cell of every refresh).
    const added = [...root.querySelectorAll("tr[data-entry]")]
      .filter((row) => Number(row.dataset.entry) > before).length;
    if (before >= 0 && added > 0) say(counted(added));
    const arrived = news();
    if (arrived.n > announced) say(arrived.text);
    announced = arrived.n;
  }

  function soon() {
    if (pending || dead) return;
    pending = setTimeout(() => { pending = null; refresh(); }, 150);
  }

  function changed(event) {
    wanted = event.data;
    if (shown !== null && event.data === shown) return;
    soon();
  }

  // Once the edit is left, the refresh that waited happens.
  const resume = () => setTimeout(() => { if (waitingSince !== null && !editing()) soon(); }, 0);
  root.addEventListener("focusout", resume);
  root.addEventListener("change", resume);
  setInterval(() => { if (waitingSince !== null) soon(); }, 5000);

  // stream.js: reconnects after a refusal (429) or a failure, later each time, and says
  // so; shows the server's sentence; a partner link's page whose link died says so, a
  // member's page whose session ended says so (its rows' request tells, as the triage
  // room's queue does), and any other answer is said and asked again later.
  const live = window.beffroiLive;
  const words = root.dataset;
  watch = live.page({
    root: root,
    status: status,
    say: (text) => say(text),
    number: (n) => integer.format(n),
    words: {
      ended: words.msgEnded,
      forbidden: words.msgForbidden,
      unexpected: words.msgUnexpected,
      interrupted: words.msgInterrupted,
    },
    session: !root.dataset.gone,
    url: root.dataset.streamUrl,
    change: changed,
    gone: root.dataset.gone ? linkGone : null,
    reload: () => refresh(true),
  });
  if (window.EventSource) watch.start();
  else {
    // Every fetch of a partner link's rows is a journaled use: seldom there. Once a
    // member's session ended, stream.js's slow revive asks instead (every 30 s).
    polling = setInterval(() => {
      if (watch.trouble() !== "ended") refresh();
    }, root.dataset.gone ? 60000 : 5000);
  }
})();
