// The live part shared by the watch pages that follow a server-sent event stream (triage
// room, main courante, a partner link's page): ``follow`` keeps the stream going, ``page``
// tells the reader on the status line why the page stopped moving and brings it back.
// No UI text here: each page hands its own (translated) sentences in.
(function () {
  "use strict";
  const LONGEST = 300; // seconds: the backoff stops growing here (Retry-After may be longer)
  const RETRY_FIRST = 10; // seconds before the page's own request is asked again
  const REVIVE_EVERY = 30000; // ms between asks once the session ended (a log-in page costs little)

  // Whether fetch ended on the log-in page: the server sends an ended session there, on
  // this site, naming the page it asked for in ``next`` (``require``, Django's
  // ``redirect_to_login``). Any other page (a captive portal's, a maintenance page,
  // answered with 200) says nothing of the session, and « session expirée » there sent
  // volunteers to log in again for nothing.
  function loginPage(r, asked) {
    if (!r.redirected || !r.url) return false;
    try {
      const to = new URL(r.url, location.href);
      const next = to.searchParams.get("next");
      if (to.origin !== location.origin || !next) return false;
      return new URL(next, location.href).pathname === new URL(asked, location.href).pathname;
    } catch (_error) {
      return false; // a ``next`` that is no address is not ours
    }
  }

  // Whether a partner link's request met the server saying the link is dead (expired or
  // revoked). The header tells it from a proxy's or a portal's own 404, which says
  // nothing of the link and must not send partners to ask for a new one.
  function linkGone(r) {
    return r.status === 404 && r.headers.get("Beffroi-Link") === "gone";
  }

  // Follows a stream and comes back after the browser gives up on it, without hammering.
  // An EventSource reconnects by itself after a stream that ended (every 20 s under WSGI,
  // a partner link's every 10 min, a reader whose access is rechecked); it gives up for
  // good on any answer that is not a stream: a 429 (too many streams open for this
  // account or link, a link used too often), a 5xx, a log-in page, a 404. Asking the
  // stream's address once more says which: a refusal is shown and tried again after
  // Retry-After, longer after each refusal in a row (jittered, so pages refused together
  // do not come back together); a dead link is not tried again. Any other answer (a
  // proxy's error page, a captive portal, a log-in page) is not enough to tell: the page's
  // own request (``on.ended``) says whether the session ended; when it did not, or when
  // there is no session to ask about (a partner link), the stream is tried again later
  // each time, and ``on.interrupted`` words the wait for the status line.
  function follow(url, on) {
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
        } else if (on.gone && linkGone(r)) {
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
        } else if (!on.interrupted) {
          stopped = true; // no way to say it: a refused stream is not hammered
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
  }

  // A live page: its stream, its own request (the queue, the rows) and one status line.
  //   o.root      gets ``stale`` while what it shows may no longer be true, and
  //               ``data-live`` on or off;
  //   o.status    the status line (role=status); it gets ``ended`` or ``unexpected``;
  //   o.say       writes the status line (default: its text);
  //   o.words     the page's sentences, ``{n}`` for seconds: ended, forbidden (a page
  //               with a log-in), unexpected, interrupted;
  //   o.number    formats a count in the page's language;
  //   o.reload    asks the page's own request again (after an unexpected answer, and now
  //               and then once the session ended) and hands its answer to ``judge``,
  //               then ``met`` or ``fine``;
  //   o.session   the page has a log-in to end (not a partner link's page);
  //   o.url, o.change, o.open, o.gone: for ``follow``.
  // The page's request is judged here, the same way on every page: the log-in page ends
  // the session (« session expirée » for nothing else), a 403 that is not the page's own
  // answer is a role taken away, anything else that is not the page's own answer (a
  // portal's page, a proxy's) is unexpected: the page keeps what it showed, greyed, says
  // so, and asks again after RETRY_FIRST s, twice as long each time in a row, up to
  // LONGEST s. Other loads that fail while a retry waits leave its wait as it is.
  function page(o) {
    let trouble = null; // null, "ended" (the session or the role) or "unexpected"
    let retry = null, retries = 0, revive = null, streamEnded = false, refusal = null;
    let stream = null;
    const say = o.say || ((text) => { o.status.textContent = text; });
    const number = o.number || String;
    const words = (name, n) => o.words[name].replace("{n}", number(n));

    function judge(r, asked, ours) {
      if (ours) return null;
      if (o.session && loginPage(r, asked)) return "ended";
      if (o.session && r.status === 403) return "forbidden";
      return r.status < 500 ? "unexpected" : null;
    }

    // What the page's request met (``judge``'s answer); true when the access ended.
    function met(kind) {
      if (kind === "unexpected") {
        if (retry) return false;
        retries += 1;
        const wait = Math.min(LONGEST, RETRY_FIRST * 2 ** (retries - 1));
        o.root.classList.add("stale");
        o.status.classList.add("unexpected");
        if (trouble !== "ended") trouble = "unexpected";
        say(words("unexpected", wait));
        retry = setTimeout(() => { retry = null; o.reload(); }, wait * 1000);
        return false;
      }
      clearTimeout(retry);
      retry = null;
      retries = 0;
      trouble = "ended";
      o.status.classList.remove("unexpected");
      // What was read is not taken away, but nothing says it is still true. A later
      // answer (logged in again in another tab) lifts it.
      o.root.classList.add("stale");
      say(words(kind));
      o.status.classList.add("ended");
      if (!revive) revive = setInterval(o.reload, REVIVE_EVERY);
      return true;
    }

    // The page's request met the page's own answer: whatever was said is over.
    function fine() {
      clearTimeout(retry);
      retry = null;
      retries = 0;
      clearInterval(revive);
      revive = null;
      if (trouble) {
        o.root.classList.remove("stale");
        o.status.classList.remove("unexpected", "ended");
        say("");
      }
      trouble = null;
      if (streamEnded) { streamEnded = false; start(); }
    }

    function start() {
      stream = follow(o.url, {
        change: o.change,
        open: () => { o.root.dataset.live = "on"; if (o.open) o.open(); },
        gone: o.gone,
        // The stream was refused: the page's own request says whether the session ended
        // (logged out, role changed) and why. Otherwise (a proxy's page for the stream
        // alone) ``follow`` tries again.
        ended: o.session ? async () => {
          o.root.dataset.live = "off";
          await o.reload();
          if (trouble === "ended") streamEnded = true;
          return streamEnded;
        } : null,
        interrupted: (seconds) => {
          o.root.dataset.live = "off";
          return words("interrupted", seconds);
        },
        say: (text) => {
          // The page's own trouble (the session's end, an unexpected answer) is the
          // bigger news: the stream's wait does not cover it.
          if (text && trouble) return;
          if (text) { refusal = text; say(text); }
          else if (o.status.textContent === refusal) say("");
        },
      });
    }

    return {
      judge, met, fine, start,
      trouble: () => trouble,
      close() { if (stream) stream.close(); clearTimeout(retry); clearInterval(revive); },
    };
  }

  window.beffroiLive = { follow, page, loginPage, linkGone };
})();
