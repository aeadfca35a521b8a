// Main courante: rows re-fetched when the server-sent event stream says they changed.
(function () {
  "use strict";
  const root = document.getElementById("courante");
  if (!root) return;
  const body = document.getElementById("courante-rows");
  let pending = null;
  // A row being edited (a new status or verification chosen but not sent, or the
  // focus on one of the table's forms) is not swept away by someone else's change: the refresh
  // waits until the edit is sent or left, at most MAX_WAIT.
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
  async function refresh() {
    if (editing() && (waitingSince === null || Date.now() - waitingSince < MAX_WAIT)) {
      if (waitingSince === null) waitingSince = Date.now();
      return;
    }
    waitingSince = null;
    let r = await fetch(root.dataset.rowsUrl, { credentials: "same-origin" });
    if (r.status >= 500) {
      await new Promise((ok) => setTimeout(ok, 400));
      r = await fetch(root.dataset.rowsUrl, { credentials: "same-origin" });
    }
    if (r.ok) body.innerHTML = await r.text(); // server-rendered, auto-escaped fragment
  }
  function soon() {
    if (pending) return;
    pending = setTimeout(() => { pending = null; refresh(); }, 150);
  }
  // Once the edit is left, the refresh that waited happens.
  const resume = () => setTimeout(() => { if (waitingSince !== null && !editing()) soon(); }, 0);
  body.addEventListener("focusout", resume);
  body.addEventListener("change", resume);
  setInterval(() => { if (waitingSince !== null) soon(); }, 5000);
  if (window.EventSource) {
    const es = new EventSource(root.dataset.streamUrl);
    // Every (re)connection starts with the current version: refetching then
    // also covers whatever changed while the stream was down.
    es.addEventListener("change", soon);
    es.addEventListener("open", () => { root.dataset.live = "on"; });
  } else {
    setInterval(refresh, 5000);
  }
})();
