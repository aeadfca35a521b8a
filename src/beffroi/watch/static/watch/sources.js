// Sources page: refresh each source's state from the JSON status endpoint.
(function () {
  "use strict";
  const table = document.getElementById("sources");
  if (!table) return;
  // Translated by the page (data-msg-*): this file holds no UI text.
  function msg(name, values) {
    let text = table.dataset["msg" + name] || "";
    for (const [k, v] of Object.entries(values || {})) text = text.replace("{" + k + "}", v);
    return text;
  }
  async function refresh() {
    const r = await fetch(table.dataset.statusUrl, { credentials: "same-origin" });
    if (!r.ok) return;
    const data = await r.json();
    for (const s of data.sources) {
      const row = table.querySelector("[data-source='" + s.id + "']");
      if (!row) continue;
      const status = row.querySelector("[data-field=status]");
      status.textContent = s.status_label;
      status.className = "status status-" + s.status;
      row.querySelector("[data-field=message]").textContent = s.message;
      row.querySelector("[data-field=when]").textContent = s.retry_display
        ? msg("Retry", { time: s.retry_display })
        : (s.at_display ? msg("At", { time: s.at_display }) : "");
      row.querySelector("[data-field=posts]").textContent = s.posts;
      row.querySelector("[data-field=skipped]").textContent = s.skipped;
      row.querySelector("[data-field=skip-reason]").textContent = s.last_skip_reason
        ? msg("Skip", { reason: s.last_skip_reason }) : "";
      // Not skips: deletions broadcast by public timelines for posts never received.
      row.querySelector("[data-field=unknown-deletions]").textContent = s.unknown_deletions
        ? msg("Unknown", { count: s.unknown_deletions }) : "";
      // Posts the platform no longer held when the source came back (already translated).
      row.querySelector("[data-field=gap]").textContent = s.gap;
      // Paused or resumed from another page: the button offers what it can do now.
      const toggle = row.querySelector(".source-toggle");
      if (toggle && s.enabled && s.status === "done") {
        // A finished import has nothing left to suspend.
        toggle.replaceChildren(Object.assign(document.createElement("span"), {
          className: "muted", textContent: msg("Done"),
        }));
      } else if (toggle && toggle.querySelector("input[name=enabled]")) {
        toggle.querySelector("input[name=enabled]").value = s.enabled ? "0" : "1";
        toggle.querySelector("button").textContent = msg(s.enabled ? "Pause" : "Resume");
      }
    }
  }
  setInterval(refresh, 3000);
})();
