// Sources page: refresh each source's state from the JSON status endpoint.
(function () {
  "use strict";
  const table = document.getElementById("sources");
  if (!table) return;
  async function refresh() {
    const r = await fetch(table.dataset.statusUrl, { credentials: "same-origin" });
    if (!r.ok) return;
    const data = await r.json();
    for (const s of data.sources) {
      const row = table.querySelector("[data-source='" + s.id + "']");
      if (!row) continue;
      const status = row.querySelector("[data-field=status]");
      status.textContent = s.status;
      status.className = "status status-" + s.status;
      row.querySelector("[data-field=message]").textContent = s.message;
      row.querySelector("[data-field=posts]").textContent = s.posts;
      const skipped = row.querySelector("[data-field=skipped]");
      skipped.textContent = s.skipped;
      skipped.title = s.last_skip_reason || "";
    }
  }
  setInterval(refresh, 3000);
})();
