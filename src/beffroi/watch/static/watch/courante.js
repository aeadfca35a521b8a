// Main courante: rows re-fetched when the server-sent event stream says they changed.
(function () {
  "use strict";
  const root = document.getElementById("courante");
  if (!root) return;
  const body = document.getElementById("courante-rows");
  let pending = null;
  async function refresh() {
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
