// Follows a watch page's server-sent event stream (triage room, main courante, a partner
// link's page) and comes back after the browser gives up on it, without hammering.
// An EventSource reconnects by itself after a stream that ended (every 20 s under WSGI, a
// partner link's every 10 min, a reader whose access is rechecked); it gives up for good
// on any answer that is not a stream: a 429 (too many streams open for this account or
// link, a link used too often), a 5xx, a log-in page, a 404. Asking the stream's address
// once more says which: a refusal is shown and tried again after Retry-After, longer after
// each refusal in a row (jittered, so pages refused together do not come back together);
// an access that is gone is not tried again.
(function () {
  "use strict";
  const LONGEST = 300; // seconds: the backoff stops growing here (Retry-After may be longer)

  window.beffroiStream = function follow(url, on) {
    let source = null;
    let failures = 0; // refusals or failures in a row
    let said = false; // the status line shows a refusal this script put there
    let stopped = false;
    let leaving = false; // the browser closes the stream when the page is left
    let timer = null; // the next try, while waiting
    window.addEventListener("pagehide", () => { leaving = true; });
    window.addEventListener("pageshow", (event) => {
      leaving = false;
      // Back from the browser's page cache: the stream it closed is opened again, and its
      // first event says whether anything changed meanwhile.
      if (event.persisted && source && source.readyState === EventSource.CLOSED) listen();
    });

    function listen() {
      clearTimeout(timer);
      timer = null;
      if (stopped) return;
      if (source) source.close(); // never two streams from one page
      source = new EventSource(url);
      // Every (re)connection starts with the current version: the page refetches what
      // changed while the stream was down.
      source.addEventListener("change", on.change);
      source.addEventListener("open", () => {
        failures = 0;
        if (said) { said = false; on.say(""); }
        if (on.open) on.open();
      });
      source.addEventListener("error", () => {
        if (source.readyState === EventSource.CLOSED) closed();
      });
    }

    function later(seconds) {
      failures += 1;
      const grown = Math.min(LONGEST, seconds * 2 ** (failures - 1));
      const wait = Math.max(seconds, grown) * (0.8 + Math.random() * 0.4);
      timer = setTimeout(listen, wait * 1000);
    }

    async function closed() {
      if (leaving || stopped) return;
      const probe = new AbortController();
      let wait = 30;
      try {
        const r = await fetch(url, {
          signal: probe.signal, credentials: "same-origin", cache: "no-store",
        });
        const type = r.headers.get("Content-Type") || "";
        if (r.status === 429) { said = true; on.say(await r.text()); } // the server's sentence
        probe.abort(); // a stream never ends: its status is all that is wanted
        if (r.ok && type.startsWith("text/event-stream")) {
          wait = 5; // the stream answers again (a restart, a network cut)
        } else if (r.status === 429 || r.status >= 500) {
          wait = Number(r.headers.get("Retry-After")) || wait;
        } else {
          // A log-in page, a 403 or a 404: this reader may no longer follow the stream;
          // the page's next request says why (``on.ended`` makes that request now). A
          // partner link's page says it died.
          stopped = true;
          if (r.status === 404 && on.gone) on.gone();
          else if (on.ended) on.ended();
          return;
        }
      } catch (_error) {
        // Offline: try again later.
      }
      later(wait);
    }

    listen();
    return {
      close() {
        stopped = true;
        if (source) source.close();
      },
    };
  };
})();
