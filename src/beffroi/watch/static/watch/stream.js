// Follows a watch page's server-sent event stream (triage room, main courante, a partner
// link's page) and comes back after the browser gives up on it, without hammering.
// An EventSource reconnects by itself after a stream that ended (every 20 s under WSGI, a
// partner link's every 10 min, a reader whose access is rechecked); it gives up for good
// on any answer that is not a stream: a 429 (too many streams open for this account or
// link, a link used too often), a 5xx, a log-in page, a 404. Asking the stream's address
// once more says which: a refusal is shown and tried again after Retry-After, longer after
// each refusal in a row (jittered, so pages refused together do not come back together);
// an access that is gone is not tried again. Any other answer (a proxy's error page, a
// captive portal, a log-in page) is not enough to tell: the page's own request
// (``on.ended``) says whether the session ended; when it did not, the stream is tried
// again later each time, and ``on.interrupted`` words the wait for the status line.
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

    function later(seconds, tell) {
      failures += 1;
      const grown = Math.min(LONGEST, seconds * 2 ** (failures - 1));
      const wait = Math.max(seconds, grown) * (0.8 + Math.random() * 0.4);
      timer = setTimeout(listen, wait * 1000);
      // A live page that stops moving must say so, and for how long (rounded up: never
      // « 0 s »); the server's own sentence (a 429) is kept instead.
      if (tell && on.interrupted && !leaving && !stopped) {
        said = true;
        on.say(on.interrupted(Math.ceil(wait)));
      }
    }

    async function closed() {
      if (leaving || stopped) return;
      const probe = new AbortController();
      let wait = 30;
      let tell = true; // the status line says the live updates wait
      try {
        const r = await fetch(url, {
          signal: probe.signal, credentials: "same-origin", cache: "no-store",
        });
        const type = r.headers.get("Content-Type") || "";
        if (r.status === 429) { said = true; tell = false; on.say(await r.text()); } // the server's sentence
        probe.abort(); // a stream never ends: its status is all that is wanted
        if (r.ok && type.startsWith("text/event-stream")) {
          wait = 5; // the stream answers again (a restart, a network cut)
          tell = false;
        } else if (r.status === 429 || r.status >= 500) {
          wait = Number(r.headers.get("Retry-After")) || wait;
        } else if (r.status === 404 && on.gone) {
          // A partner link's page: the link died.
          stopped = true;
          on.gone();
          return;
        } else if (on.ended) {
          // A log-in page, a 403, or something between the browser and the server (a
          // proxy's 4xx page, a captive portal's 200): the page's own request says
          // whether this reader may still follow the stream. Only then does it stop;
          // otherwise it stopped in silence while the page still answered.
          if (await on.ended()) { stopped = true; return; }
          if (stopped || leaving) return;
        } else {
          stopped = true; // no way to ask: as before, a refused stream is not hammered
          return;
        }
      } catch (_error) {
        // Offline: try again later.
      }
      later(wait, tell);
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
