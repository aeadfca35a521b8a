// Main courante: rows re-fetched when the server-sent event stream says they changed.
// The same script serves a partner link's page, which also says when its link died.
(function () {
  "use strict";
  const root = document.getElementById("courante");
  if (!root) return;
  const body = document.getElementById("courante-rows");
  const status = document.getElementById("live");
  // A partner link's page says which version its rows show: each fetch of its rows is a
  // journaled use of the link, so it fetches only when the stream announces another.
  let shown = root.dataset.version || null;
  let wanted = null;
  let pending = null;
  let source = null;
  let dead = false;
  let leaving = false; // the browser closes the stream when the page is left
  window.addEventListener("pagehide", () => { leaving = true; });
  window.addEventListener("pageshow", (event) => {
    leaving = false;
    // Back from the browser's page cache: the stream it closed is opened again, and its
    // first event says whether the rows changed meanwhile.
    if (event.persisted && source && source.readyState === EventSource.CLOSED) listen();
  });
  // A row being edited (a new status or verification chosen but not sent, or the
  // focus on one of the table's forms) is not swept away by someone else's change: the
  // refresh waits until the edit is sent or left, at most MAX_WAIT. (A partner's page
  // has no forms: it never waits.)
  const MAX_WAIT = 60000;
  let waitingSince = null;
  function editing() {
    const here = document.activeElement;
    if (here && body.contains(here) && here.closest("form")) return true;
    for (const select of body.querySelectorAll("select")) {
      const first = [...select.options].find((o) => o.defaultSelected) || select.options[0];
      if (first && select.value !== first.value) return true;
    }
    return false;
  }

  function say(text, alarm) {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("link-gone", Boolean(alarm));
    status.classList.toggle("muted", !alarm);
  }

  function linkGone() {
    dead = true;
    if (source) source.close();
    root.dataset.live = "off";
    root.classList.add("stale");
    say(root.dataset.gone, true);
  }

  async function refresh() {
    if (editing() && (waitingSince === null || Date.now() - waitingSince < MAX_WAIT)) {
      if (waitingSince === null) waitingSince = Date.now();
      return null;
    }
    waitingSince = null;
    const target = wanted;
    let r = await fetch(root.dataset.rowsUrl, { credentials: "same-origin" });
    if (r.status >= 500) {
      await new Promise((ok) => setTimeout(ok, 400));
      r = await fetch(root.dataset.rowsUrl, { credentials: "same-origin" });
    }
    if (r.ok) {
      body.innerHTML = await r.text(); // server-rendered, auto-escaped fragment
      if (shown !== null && target !== null) shown = target;
      if (status && status.textContent) say(""); // a limit said earlier is over
      return r;
    }
    if (root.dataset.gone && r.status === 404) linkGone();
    else if (r.status === 429) say(await r.text()); // the server's own sentence
    return r;
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

  // A stream the browser gave up on (a 404 or 429 instead of a stream): asking the
  // stream's address once more says why, without using the link (its openings are
  // neither journaled nor counted as reads). A dead link's page says so; otherwise the
  // stream is tried again later.
  async function closed() {
    if (!root.dataset.gone || leaving) return;
    const probe = new AbortController();
    let wait = 30;
    try {
      const r = await fetch(root.dataset.streamUrl, { signal: probe.signal });
      if (r.status === 429) say(await r.text()); // the server's own sentence
      probe.abort(); // a stream never ends: its status is all that is wanted
      if (r.status === 404) { linkGone(); return; }
      if (r.ok) wait = 5;
      else wait = Number(r.headers.get("Retry-After")) || wait;
    } catch (_error) {
      // Offline: try again later.
    }
    setTimeout(listen, wait * 1000);
  }

  function listen() {
    if (dead) return;
    source = new EventSource(root.dataset.streamUrl);
    // Every (re)connection starts with the current version: refetching then
    // also covers whatever changed while the stream was down.
    source.addEventListener("change", changed);
    source.addEventListener("open", () => { root.dataset.live = "on"; });
    source.addEventListener("error", () => {
      if (source.readyState === EventSource.CLOSED) closed();
    });
  }

  // Once the edit is left, the refresh that waited happens.
  const resume = () => setTimeout(() => { if (waitingSince !== null && !editing()) soon(); }, 0);
  body.addEventListener("focusout", resume);
  body.addEventListener("change", resume);
  setInterval(() => { if (waitingSince !== null) soon(); }, 5000);

  if (window.EventSource) {
    listen();
  } else {
    // Every fetch of a partner link's rows is a journaled use: seldom there.
    setInterval(refresh, root.dataset.gone ? 60000 : 5000);
  }
})();
