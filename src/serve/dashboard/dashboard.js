// The dashboard of `t2t-notify serve`: signs in with the dashboard token, polls the service's
// status every second and shows it, searches people's journeys, shows the audit log, and asks
// for a confirmation (and the admin's name, for the audit log) before any action.
// The page's Content-Security-Policy allows no inline script or style: every node is built
// with createElement / createElementNS and textContent, never from HTML text, because the
// service's data (server replies, file names, UPNs) may hold anything.
(function () {
  "use strict";

  var POLL_MS = 1000;
  var AUDIT_MS = 5000;
  var SEARCH_DELAY_MS = 250;
  var REQUEST_TIMEOUT_MS = 8000;
  var HOUR_MS = 3600000;
  var CHART_HOURS = 48;
  var SVG_NS = "http://www.w3.org/2000/svg";
  var ACTOR_KEY = "t2t-notify.dashboard.actor";

  var csrf = null;
  // Bumped at each sign-in and sign-out: a poll chain of an earlier generation stops.
  var generation = 0;
  var status = null;
  // What each section was last drawn from, so that a section is redrawn only when it changed.
  var drawn = {};
  var cards = {};
  var pending = null;
  var searchTimer = null;
  var searchSeq = 0;

  function $(id) { return document.getElementById(id); }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function svg(tag, attrs) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
    return node;
  }

  function clear(node) {
    while (node.firstChild) { node.removeChild(node.firstChild); }
  }

  function setText(node, text) {
    text = String(text);
    if (node.textContent !== text) { node.textContent = text; }
  }

  function append(parent) {
    for (var i = 1; i < arguments.length; i += 1) {
      var child = arguments[i];
      if (child === null || child === undefined) { continue; }
      parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return parent;
  }

  // A UPN or mailbox that may wrap before its "@" (and anywhere, when it must).
  function upn(text) {
    var node = el("span", "upn");
    String(text === null || text === undefined ? "" : text).split("@").forEach(function (part, i) {
      if (i > 0) { append(node, el("wbr"), "@"); }
      append(node, part);
    });
    return node;
  }

  function plural(n, one, many) {
    return n + " " + (n === 1 ? one : (many || one + "s"));
  }

  function thousands(n) {
    return Number(n).toLocaleString();
  }

  // ---- Times: local time on the page, the UTC ISO string in the title. ----

  function nowMs() {
    var t = status && Date.parse(status.now);
    return t || Date.now();
  }

  function localTime(iso, withSeconds) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return String(iso); }
    var clock = { hour: "2-digit", minute: "2-digit" };
    if (withSeconds) { clock.second = "2-digit"; }
    if (d.toDateString() === new Date(nowMs()).toDateString()) {
      return d.toLocaleTimeString([], clock);
    }
    clock.weekday = "short";
    clock.day = "numeric";
    clock.month = "short";
    if (d.getFullYear() !== new Date(nowMs()).getFullYear()) { clock.year = "numeric"; }
    return d.toLocaleString([], clock);
  }

  function timeEl(iso, withSeconds) {
    var t = el("time", "t", localTime(iso, withSeconds));
    t.setAttribute("datetime", iso);
    t.title = iso;
    return t;
  }

  function span(ms) {
    var s = Math.round(Math.abs(ms) / 1000);
    if (s < 60) { return s + " s"; }
    var m = Math.floor(s / 60);
    if (m < 60) { return m + " min"; }
    var h = Math.floor(m / 60);
    if (h < 48) { return h + " h" + (m % 60 ? " " + (m % 60) + " min" : ""); }
    var d = Math.floor(h / 24);
    return d + " d" + (h % 24 ? " " + (h % 24) + " h" : "");
  }

  // "in 2 h 10 min", "5 min ago", against the service's clock (the browser's may differ).
  function relative(iso) {
    var ms = Date.parse(iso) - nowMs();
    if (isNaN(ms)) { return ""; }
    if (Math.abs(ms) < 1000) { return "now"; }
    return ms > 0 ? "in " + span(ms) : span(ms) + " ago";
  }

  // "<time> (in 2 h 10 min)"
  function whenEl(iso) {
    var wrap = el("span", "when");
    var rel = relative(iso);
    return append(wrap, timeEl(iso), rel ? " (" + rel + ")" : "");
  }

  // ---- Requests ----

  function request(method, path, body) {
    var options = { method: method, credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } };
    if (method !== "GET") {
      options.headers["Content-Type"] = "application/json";
      if (csrf) { options.headers["X-CSRF-Token"] = csrf; }
      options.body = JSON.stringify(body || {});
    }
    if (typeof AbortSignal !== "undefined" && AbortSignal.timeout) {
      options.signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    }
    return fetch(path, options).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        if (text) {
          try { data = JSON.parse(text); } catch (ignored) { data = null; }
        }
        return { status: response.status, ok: response.ok, data: data };
      });
    });
  }

  function errorText(res) {
    if (res.data && typeof res.data.error === "string" && res.data.error) { return res.data.error; }
    return "The service answered with HTTP status " + res.status + ".";
  }

  // ---- Connection line ----

  function connectionLost(detail) {
    var line = $("connection");
    var since = status ? " The figures shown are from " + localTime(status.now, true) + "." : "";
    setText(line, "Connection lost, retrying" + (detail ? " (" + detail + ")" : "") + "…" + since);
    line.classList.add("lost");
  }

  function connectionOk() {
    var line = $("connection");
    setText(line, "");
    line.classList.remove("lost");
  }

  // ---- Signing in and out ----

  function showSignIn(message, neutral) {
    generation += 1;
    csrf = null;
    status = null;
    drawn = {};
    cards = {};
    if (pending && $("confirm-dialog").open) { $("confirm-dialog").close(); }
    ["campaigns", "budget", "chart", "funnel", "gate", "attention", "results", "audit"].forEach(function (id) { clear($(id)); });
    ["started", "now", "ledger", "search-status", "action-result", "paused-detail"].forEach(function (id) {
      setText($(id), "");
      $(id).removeAttribute("data-key");
    });
    $("dashboard").hidden = true;
    $("logout").hidden = true;
    $("signin").hidden = false;
    setText($("login-error"), message || "");
    $("login-error").classList.toggle("note", !!neutral);
    $("token").focus();
  }

  function showDashboard() {
    generation += 1;
    var gen = generation;
    $("signin").hidden = true;
    $("dashboard").hidden = false;
    $("logout").hidden = false;
    $("token").value = "";
    setText($("login-error"), "");
    $("campaigns-title").focus();
    poll(gen);
    auditLoop(gen);
  }

  function checkSession() {
    request("GET", "api/session").then(function (res) {
      var signedOut = res.status === 401 || (res.ok && res.data && res.data.signed_in === false);
      if (signedOut) { connectionOk(); showSignIn(); return; }
      if (!res.ok || !res.data || typeof res.data.csrf !== "string") {
        connectionLost(errorText(res));
        setTimeout(checkSession, POLL_MS * 2);
        return;
      }
      connectionOk();
      csrf = res.data.csrf;
      showDashboard();
    }, function () {
      connectionLost();
      setTimeout(checkSession, POLL_MS * 2);
    });
  }

  function signIn(event) {
    event.preventDefault();
    var token = $("token").value;
    if (!token) { setText($("login-error"), "Type the dashboard token."); return; }
    var button = $("login-submit");
    button.disabled = true;
    setText($("login-error"), "");
    request("POST", "api/login", { token: token }).then(function (res) {
      button.disabled = false;
      if (res.ok) { connectionOk(); checkSession(); return; }
      setText($("login-error"), errorText(res));
      $("token").select();
    }, function () {
      button.disabled = false;
      setText($("login-error"), "The service could not be reached. Is it running?");
    });
  }

  function signOut() {
    request("POST", "api/logout", {}).then(function () {
      showSignIn("Signed out.", true);
    }, function () {
      showResult(false, "The service could not be reached to sign out.");
    });
  }

  // ---- Polling ----

  function poll(gen) {
    if (gen !== generation) { return; }
    request("GET", "api/status").then(function (res) {
      if (gen !== generation) { return; }
      if (res.status === 401) { showSignIn("Your session has ended: sign in again."); return; }
      if (!res.ok || !res.data) { connectionLost(errorText(res)); return; }
      connectionOk();
      try {
        render(res.data);
      } catch (err) {
        // A status this page cannot show must not stop the polling.
        console.error(err);
      }
    }, function () {
      if (gen === generation) { connectionLost(); }
    }).then(function () {
      if (gen === generation) { setTimeout(function () { poll(gen); }, POLL_MS); }
    });
  }

  function auditLoop(gen) {
    if (gen !== generation) { return; }
    refreshAudit().then(function () {
      if (gen === generation) { setTimeout(function () { auditLoop(gen); }, AUDIT_MS); }
    });
  }

  function refreshAudit() {
    var gen = generation;
    return request("GET", "api/audit").then(function (res) {
      if (gen !== generation) { return; }
      if (res.status === 401) { showSignIn("Your session has ended: sign in again."); return; }
      if (!res.ok || !res.data) { return; }
      renderIfChanged("audit", res.data.entries, renderAudit);
    }, function () { /* the status poll says when the connection is lost */ });
  }

  // Redraws the section whose id is `name` when what it shows changed (its data, or `extra`:
  // the relative times it says), keeping its open <details> open.
  function renderIfChanged(name, data, draw, extra) {
    var key = JSON.stringify(data) + "|" + (extra || "");
    if (drawn[name] === key) { return; }
    drawn[name] = key;
    var box = $(name);
    var open = {};
    Array.prototype.forEach.call(box.querySelectorAll("details[data-key]"), function (d) { open[d.getAttribute("data-key")] = d.open; });
    draw(data);
    Array.prototype.forEach.call(box.querySelectorAll("details[data-key]"), function (d) { if (open[d.getAttribute("data-key")]) { d.open = true; } });
  }

  // The relative times a section shows ("in 2 h 10 min"): it is redrawn when they change.
  function relatives(times) {
    return times.map(function (t) { return t ? relative(t) : ""; }).join("|");
  }

  // ---- The status ----

  function render(s) {
    status = s;
    renderService(s);
    renderCampaigns(s.campaigns || []);
    var budgets = s.budgets || [];
    renderIfChanged("budget", budgets, renderBudgets, relatives(budgets.map(function (b) { return b.frees_at; })));
    var hour = Math.floor(nowMs() / HOUR_MS);
    renderIfChanged("chart", s.hours || [], renderChart, hour + (narrowScreen() ? " narrow" : ""));
    renderIfChanged("funnel", { funnel: s.funnel, at: s.journey_at }, renderFunnel);
    renderIfChanged("gate", s.gate, renderGate);
    renderIfChanged("attention", { list: s.attention || [], total: s.attention_total }, renderAttention);
  }

  function renderService(s) {
    var started = $("started");
    var startedKey = s.started + relatives([s.started]);
    if (started.getAttribute("data-key") !== startedKey) {
      started.setAttribute("data-key", startedKey);
      clear(started);
      append(started, "Started ", whenEl(s.started));
    }
    var now = $("now");
    clear(now);
    append(now, "Service time ", timeEl(s.now, true));
    setText($("ledger"), s.ledger ? "Ledger " + s.ledger : "");

    var paused = s.paused;
    $("paused-banner").hidden = !paused;
    $("pause").hidden = !!paused;
    $("resume").hidden = !paused;
    var detail = $("paused-detail");
    // The banner is a live region: it changes only when the pause does, not with the clock.
    if (paused) {
      var key = JSON.stringify(paused);
      if (detail.getAttribute("data-key") !== key) {
        detail.setAttribute("data-key", key);
        clear(detail);
        append(detail, "By " + (paused.by || "someone") + ", at ", timeEl(paused.at),
          ". Messages already being sent finished; no new message starts in any campaign until someone resumes.");
      }
    }
  }

  // ---- Campaigns: one card each, kept (not rebuilt) so that focus on its buttons stays. ----

  var COUNTS = [
    ["sent", "sent", "sent"],
    ["failed", "failed", "failed permanently"],
    ["uncertain", "uncertain", "may or may not have arrived"],
    ["deferred", "deferred", "refused for now, tried again"],
    ["in_flight", "in-flight", "being sent"]
  ];

  var OUTCOMES = {
    "success": ["ok", "finished"],
    "some-failed": ["warn", "finished, some people failed permanently"],
    "gate-closed": ["bad", "the trust gate is closed: nothing was sent"],
    "invalid": ["bad", "invalid input: nothing was sent"],
    "paused": ["warn", "paused (by someone, the day budget, a quota or a refusing server)"],
    "failure": ["bad", "failed (server unreachable, authentication refused, ...)"],
    "interrupted": ["warn", "interrupted (the service was stopping)"]
  };

  function campaignKey(c) { return c.name === null || c.name === undefined ? "" : String(c.name); }

  function campaignLabel(c) { return campaignKey(c) || "post-move notice"; }

  function renderCampaigns(list) {
    var box = $("campaigns");
    var seen = {};
    list.forEach(function (c, i) {
      var key = campaignKey(c);
      seen[key] = true;
      var card = cards[key];
      if (!card) {
        card = buildCard(c);
        cards[key] = card;
      }
      if (box.children[i] !== card.root) { box.insertBefore(card.root, box.children[i] || null); }
      updateCard(card, c);
    });
    Object.keys(cards).forEach(function (key) {
      if (!seen[key]) {
        box.removeChild(cards[key].root);
        delete cards[key];
      }
    });
    if (list.length === 0) {
      if (!box.querySelector(".empty")) { box.appendChild(el("p", "muted empty", "No campaign is configured.")); }
    } else {
      var empty = box.querySelector(".empty");
      if (empty) { box.removeChild(empty); }
    }
  }

  function buildCard(c) {
    var key = campaignKey(c);
    var root = el("article", "campaign");
    root.setAttribute("data-name", key);
    var head = el("div", "campaign-head");
    var title = el("h3", "name", campaignLabel(c));
    var kind = el("span", "chip neutral kind");
    append(head, title, kind);
    var state = el("div", "state");
    var last = el("p", "last small");
    var counts = el("div", "counts");
    var numbers = {};
    COUNTS.forEach(function (spec) {
      var box = el("div", "count count-" + spec[1]);
      box.title = spec[2];
      numbers[spec[0]] = el("span", "n " + spec[1], "0");
      append(box, numbers[spec[0]], el("span", "label", spec[1]));
      counts.appendChild(box);
    });
    var progress = el("div", "progress");
    var track = el("div", "track");
    track.setAttribute("role", "progressbar");
    track.setAttribute("aria-valuemin", "0");
    track.setAttribute("aria-label", "Sent of the audience");
    var fill = el("div", "fill");
    track.appendChild(fill);
    var progressText = el("p", "small muted progress-text");
    append(progress, track, progressText);
    var actions = el("div", "actions");
    var retry = el("button", "retry-failed", "Retry failed");
    retry.type = "button";
    var resend = el("button", "resend-uncertain", "Resend uncertain");
    resend.type = "button";
    retry.addEventListener("click", function () { askRetry(key); });
    resend.addEventListener("click", function () { askResend(key); });
    append(actions, retry, resend);
    append(root, head, state, last, counts, progress, actions);
    return { root: root, kind: kind, state: state, last: last, numbers: numbers, progress: progress, track: track, fill: fill, progressText: progressText, retry: retry, resend: resend, keys: {} };
  }

  function updateCard(card, c) {
    setText(card.kind, c.kind || "");
    var stateKey = JSON.stringify(c.state) + relatives([c.state && c.state.until]);
    if (card.keys.state !== stateKey) {
      card.keys.state = stateKey;
      drawState(card.state, c.state || { kind: "idle" });
    }
    var lastKey = c.last_pass + "|" + c.last_outcome + "|" + relatives([c.last_pass]);
    if (card.keys.last !== lastKey) {
      card.keys.last = lastKey;
      drawLast(card.last, c);
    }
    var counts = c.counts || {};
    COUNTS.forEach(function (spec) { setText(card.numbers[spec[0]], Number(counts[spec[0]] || 0)); });
    drawProgress(card, Number(counts.sent || 0), c.audience);
    var failed = Number(counts.failed || 0);
    var uncertain = Number(counts.uncertain || 0);
    card.retry.disabled = failed === 0;
    card.resend.disabled = uncertain === 0;
    card.retry.setAttribute("aria-label", "Retry the " + plural(failed, "failed message") + " of " + campaignLabel(c));
    card.resend.setAttribute("aria-label", "Resend to the " + plural(uncertain, "uncertain person", "uncertain people") + " of " + campaignLabel(c));
  }

  function chip(cls, text) { return el("span", "chip " + cls, text); }

  function drawState(node, st) {
    clear(node);
    node.setAttribute("data-state", st.kind);
    node.className = "state s-" + st.kind;
    switch (st.kind) {
    case "idle":
      append(node, chip("neutral", "Idle"), " — nothing due; looked at again at the next poll");
      break;
    case "sending":
      append(node, chip("ok", "Sending"), " — a pass is running");
      break;
    case "waiting":
      append(node, chip("warn", "Waiting"), " until ", whenEl(st.until), st.why ? ": " + st.why : "");
      break;
    case "backing-off":
      append(node, chip("bad", "Backing off"), " until ", whenEl(st.until),
        " after " + plural(Number(st.failures || 0), "failed pass", "failed passes") + " in a row");
      break;
    case "held":
      append(node, chip("bad", "Held"), " — nothing is sent until this is fixed; looked at again at each poll");
      if (st.why) { node.appendChild(el("div", "why", st.why)); }
      break;
    case "paused":
      append(node, chip("warn", "Paused"), " — no new message starts until someone resumes");
      if (st.why) { node.appendChild(el("div", "why", st.why)); }
      break;
    default:
      append(node, chip("neutral", String(st.kind)), st.why ? " " + st.why : "");
    }
  }

  function drawLast(node, c) {
    clear(node);
    if (!c.last_pass) {
      append(node, el("span", "muted", "No pass yet since the service started."));
      return;
    }
    var outcome = OUTCOMES[c.last_outcome] || ["neutral", c.last_outcome || "unknown"];
    append(node, "Last pass ", whenEl(c.last_pass), ": ", el("span", "outcome " + outcome[0], outcome[1]));
  }

  function drawProgress(card, sent, audience) {
    var known = typeof audience === "number" && audience > 0;
    card.progress.hidden = !known;
    if (!known) { return; }
    var share = Math.min(1, sent / audience);
    var width = (share * 100).toFixed(1) + "%";
    if (card.fill.style.width !== width) { card.fill.style.width = width; }
    card.track.setAttribute("aria-valuemax", String(audience));
    card.track.setAttribute("aria-valuenow", String(Math.min(sent, audience)));
    setText(card.progressText, thousands(sent) + " of " + thousands(audience) + " sent (" + Math.floor(share * 100) + "%)");
  }

  // ---- Day budget ----

  function bar(share, cls) {
    var track = el("span", "track");
    track.setAttribute("aria-hidden", "true");
    var fill = el("span", "fill" + (cls ? " " + cls : "") + (share > 0 ? " nonzero" : ""));
    fill.style.width = (Math.min(1, Math.max(0, share)) * 100).toFixed(1) + "%";
    track.appendChild(fill);
    return track;
  }

  function renderBudgets(list) {
    var box = $("budget");
    clear(box);
    if (list.length === 0) {
      box.appendChild(el("p", "muted", "No sending mailbox has sent anything yet."));
      return;
    }
    list.forEach(function (b) {
      var row = el("div", "budget-row");
      row.setAttribute("data-mailbox", b.mailbox);
      var perDay = Number(b.per_day || 0);
      var used = Number(b.used || 0);
      var share = perDay > 0 ? used / perDay : 0;
      var cls = b.frees_at || share >= 1 ? "bad" : share >= 0.8 ? "warn" : "";
      var numbers = perDay > 0
        ? thousands(used) + " of " + thousands(perDay) + " (" + Math.floor(share * 100) + "%)"
        : thousands(used) + " (no day budget set)";
      var mailbox = upn(b.mailbox);
      mailbox.classList.add("mailbox");
      append(row, mailbox, el("span", "used", numbers));
      if (perDay > 0) { row.appendChild(bar(share, cls)); }
      if (b.frees_at) {
        append(row, append(el("span", "frees small"), "Spent: frees at ", whenEl(b.frees_at)));
      }
      box.appendChild(row);
    });
  }

  // ---- Messages per hour: an inline SVG ----

  function niceMax(n) {
    if (n <= 5) { return Math.max(1, n); }
    var p = Math.pow(10, Math.floor(Math.log10(n)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i += 1) {
      if (steps[i] * p >= n) { return steps[i] * p; }
    }
    return 10 * p;
  }

  // A phone gets a taller chart, so that its bars and labels stay readable.
  function narrowScreen() {
    return window.matchMedia("(max-width: 600px)").matches;
  }

  function hourLabel(ms) {
    return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function hourRange(ms) {
    var d = new Date(ms);
    return d.toLocaleString([], { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" }) + "–" + hourLabel(ms + HOUR_MS);
  }

  function renderChart(hours) {
    var box = $("chart");
    clear(box);
    var last = Math.floor(nowMs() / HOUR_MS);
    var first = last - CHART_HOURS + 1;
    var counts = [];
    for (var k = 0; k < CHART_HOURS; k += 1) { counts.push(0); }
    hours.forEach(function (h) {
      var slot = Math.floor(Date.parse(h.start) / HOUR_MS) - first;
      if (slot >= 0 && slot < CHART_HOURS) { counts[slot] += Number(h.sent || 0); }
    });
    var total = counts.reduce(function (a, b) { return a + b; }, 0);
    var busiest = Math.max.apply(null, counts);
    var top = niceMax(busiest);

    var narrow = narrowScreen();
    var W = 720, H = narrow ? 420 : 240, left = narrow ? 70 : 48, right = 8, topPad = 16, bottom = narrow ? 44 : 30;
    var plotW = W - left - right, plotH = H - topPad - bottom;
    var slotW = plotW / CHART_HOURS;
    var root = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-labelledby": "chart-svg-title", preserveAspectRatio: "xMidYMid meet" });
    var title = svg("title", { id: "chart-svg-title" });
    title.textContent = "Messages per hour over the last 48 hours: " + thousands(total) + " in all, at most " + thousands(busiest) + " in one hour.";
    root.appendChild(title);

    [0, 0.5, 1].forEach(function (f) {
      var y = topPad + plotH - f * plotH;
      root.appendChild(svg("line", { x1: left, x2: W - right, y1: y, y2: y, "class": f === 0 ? "axis" : "grid" }));
      var v = top * f;
      if (f === 0.5 && v !== Math.round(v)) { return; }
      var label = svg("text", { x: left - 6, y: y, "text-anchor": "end", "dominant-baseline": "middle", "class": "tick" });
      label.textContent = thousands(v);
      root.appendChild(label);
    });

    counts.forEach(function (n, i) {
      var start = (first + i) * HOUR_MS;
      var x = left + i * slotW;
      if (n > 0) {
        var h = Math.max(narrow ? 7 : 4, (n / top) * plotH);
        var rect = svg("rect", { x: (x + 1).toFixed(2), y: (topPad + plotH - h).toFixed(2), width: Math.max(1, slotW - 2).toFixed(2), height: h.toFixed(2), "class": "bar" });
        var tip = svg("title");
        tip.textContent = hourRange(start) + ": " + plural(n, "message");
        rect.appendChild(tip);
        root.appendChild(rect);
      }
      var fromEnd = CHART_HOURS - 1 - i;
      if (fromEnd % 6 === 0) {
        var tick = svg("text", { x: (fromEnd === 0 ? x + slotW : x + slotW / 2).toFixed(2), y: H - 6, "text-anchor": fromEnd === 0 ? "end" : "middle", "class": "tick" + (fromEnd % 12 === 0 ? "" : " minor") });
        tick.textContent = new Date(start).toLocaleTimeString([], { hour: "numeric" });
        root.appendChild(tick);
      }
    });
    box.appendChild(root);
    box.appendChild(el("p", "muted small", total === 0
      ? "No message in the last 48 hours."
      : plural(total, "message") + " in the last 48 hours; the busiest hour had " + thousands(busiest) + ". Hover over a bar for its hour."));
    if (total > 0) { box.appendChild(chartNumbers(counts, first)); }
  }

  // The chart's numbers, for those who cannot see it: every hour that has messages.
  function chartNumbers(counts, first) {
    var details = el("details");
    details.setAttribute("data-key", "numbers");
    details.appendChild(el("summary", null, "The chart's numbers"));
    var t = table(["Hour", "Messages"], "chart-numbers", true);
    counts.forEach(function (n, i) {
      if (n === 0) { return; }
      var tr = el("tr");
      cell(tr, "Hour", hourRange((first + i) * HOUR_MS));
      cell(tr, "Messages", thousands(n), "num");
      t.body.appendChild(tr);
    });
    details.appendChild(t.table);
    return details;
  }

  // ---- Funnel ----

  var STEPS = [
    ["mapping", "in the mapping"],
    ["warned", "warned before the move"],
    ["moved", "moved"],
    ["notified", "notified after the move"],
    ["signed_in", "signed in since the move"]
  ];

  function renderFunnel(data) {
    var box = $("funnel");
    clear(box);
    var f = data.funnel;
    if (!f) {
      box.appendChild(el("p", "muted", "Not computed yet (it needs the mapping and the ledger)."));
      return;
    }
    var list = el("ol", "funnel");
    STEPS.forEach(function (step) {
      var s = f[step[0]] || { count: 0, share: 0 };
      var share = Number(s.share || 0);
      var li = el("li");
      li.setAttribute("data-step", step[0]);
      append(li, el("span", "label", step[1]), bar(share), el("span", "n", thousands(s.count || 0)),
        el("span", "share muted", Math.round(share * 100) + "%"));
      list.appendChild(li);
    });
    box.appendChild(list);
    var note = el("p", "muted small");
    append(note, "Each bar is a share of the mapping.");
    if (data.at) { append(note, " As of ", timeEl(data.at), "."); }
    box.appendChild(note);
  }

  // ---- Trust gate ----

  function cell(row, label, content, cls) {
    var td = el("td", cls);
    td.setAttribute("data-label", label);
    if (content !== null && content !== undefined) {
      append(td, typeof content === "string" || typeof content === "number" ? String(content) : content);
    }
    row.appendChild(td);
    return td;
  }

  // A table; unless `flat`, its rows stack into label/value lines on a phone.
  function table(headers, cls, flat) {
    var t = el("table", (flat ? "" : "stack ") + (cls || ""));
    var head = el("tr");
    headers.forEach(function (h, i) {
      var th = el("th", flat && i > 0 ? "num" : null, h);
      th.scope = "col";
      head.appendChild(th);
    });
    append(t, append(el("thead"), head));
    var body = el("tbody");
    t.appendChild(body);
    return { table: t, body: body };
  }

  function renderGate(gate) {
    var box = $("gate");
    clear(box);
    if (!gate) {
      box.appendChild(el("p", "muted", "No campaign is gated by the trust gate."));
      return;
    }
    box.setAttribute("data-open", gate.open ? "true" : "false");
    var line = el("p", "gate-line");
    append(line, gate.open ? chip("ok", "Open") : chip("bad", "Closed"),
      gate.open ? " gated campaigns may send." : " gated campaigns send nothing until the cross-tenant trust is confirmed on both sides.");
    box.appendChild(line);
    var pairs = gate.pairs || [];
    if (pairs.length) {
      var t = table(["Side", "Tenant", "Partner", "Confirmed"], "gate-pairs");
      pairs.forEach(function (p) {
        var tr = el("tr");
        cell(tr, "Side", p.side, "side");
        cell(tr, "Tenant", p.host_url, "url");
        cell(tr, "Partner", p.partner_url, "url");
        if (p.confirmed_at) { cell(tr, "Confirmed", timeEl(p.confirmed_at), "ok"); } else { cell(tr, "Confirmed", "not confirmed", "bad"); }
        t.body.appendChild(tr);
      });
      box.appendChild(t.table);
    }
    if (gate.summary) {
      var details = el("details");
      details.setAttribute("data-key", "summary");
      append(details, el("summary", null, "What the gate says"), el("div", "why", gate.summary));
      box.appendChild(details);
    }
  }

  // ---- People who need attention ----

  function reasonList(reasons) {
    var ul = el("ul", "reasons");
    (reasons || []).forEach(function (r) { ul.appendChild(el("li", null, r)); });
    return ul;
  }

  function renderAttention(data) {
    var box = $("attention");
    clear(box);
    var list = data.list;
    var total = typeof data.total === "number" ? data.total : list.length;
    if (list.length === 0 && total === 0) {
      box.appendChild(el("p", "ok-line", "Nobody needs attention."));
      return;
    }
    var note = el("p", "small");
    if (total > list.length) {
      append(note, "The first " + thousands(list.length) + " of " + thousands(total) + " people; find the others with the search below or ",
        el("code", null, "t2t-notify report --journey"), ".");
    } else {
      append(note, plural(total, "person", "people") + ".");
    }
    box.appendChild(note);
    var t = table(["Source", "Target", "Why"], "attention-table");
    list.forEach(function (p) {
      var tr = el("tr");
      cell(tr, "Source", upn(p.source_upn));
      cell(tr, "Target", upn(p.target_upn));
      cell(tr, "Why", reasonList(p.reasons), "bad-text");
      t.body.appendChild(tr);
    });
    box.appendChild(t.table);
  }

  // ---- Search ----

  function scheduleSearch() {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, SEARCH_DELAY_MS);
  }

  function runSearch() {
    var q = $("search").value.trim();
    var seq = ++searchSeq;
    var gen = generation;
    if (!q) {
      clear($("results"));
      setText($("search-status"), "");
      return;
    }
    setText($("search-status"), "Searching…");
    request("GET", "api/people?q=" + encodeURIComponent(q)).then(function (res) {
      if (seq !== searchSeq || gen !== generation) { return; }
      if (res.status === 401) { showSignIn("Your session has ended: sign in again."); return; }
      if (!res.ok || !res.data) { setText($("search-status"), errorText(res)); return; }
      renderResults(res.data);
    }, function () {
      if (seq === searchSeq) { setText($("search-status"), "The service could not be reached; type again to retry."); }
    });
  }

  function fact(dl, term, value) {
    append(dl, el("dt", null, term), append(el("dd"), value));
  }

  function timeOrNot(iso, not) {
    return iso ? timeEl(iso) : el("span", "muted", not);
  }

  function renderResults(data) {
    var people = data.people || [];
    var box = $("results");
    clear(box);
    var n = people.length;
    setText($("search-status"), n === 0
      ? "Nobody matches."
      : plural(n, "person", "people") + " match" + (n === 1 ? "es" : "") + (data.more ? " (the first " + n + "; type more to narrow it down)." : "."));
    people.forEach(function (j) {
      var card = el("article", "person");
      var h = el("h3");
      append(h, upn(j.source_upn), " → ", upn(j.target_upn));
      card.appendChild(h);
      var dl = el("dl", "journey");
      fact(dl, "Warned", timeOrNot(j.warned_at, "not warned"));
      var moved = j.moved;
      if (moved) {
        var m = el("span");
        append(m, el("span", "chip " + (moved.success ? "ok" : "neutral"), moved.state || "unknown state"));
        if (moved.batch) { append(m, " batch ", el("strong", null, moved.batch)); }
        if (moved.at) { append(m, " at ", timeEl(moved.at)); }
        fact(dl, "Moved", m);
      } else {
        fact(dl, "Moved", el("span", "muted", j.notified_at ? "notified, but in no move-state export" : "not in any move-state export yet"));
      }
      fact(dl, "Notified", timeOrNot(j.notified_at, "not notified"));
      fact(dl, "Signed in", timeOrNot(j.signed_in_at, "no sign-in seen since the move"));
      var rem = el("span", null, String(j.reminders || 0));
      if (j.last_reminder_at) { append(rem, ", the last ", timeEl(j.last_reminder_at)); }
      fact(dl, "Reminders", rem);
      if (j.reasons && j.reasons.length) {
        fact(dl, "Needs attention", reasonList(j.reasons));
        card.classList.add("needs-attention");
      }
      card.appendChild(dl);
      box.appendChild(card);
    });
  }

  // ---- Audit log ----

  var ACTIONS = {
    "pause": "paused sending",
    "resume": "resumed sending",
    "retry-failed": "retried the failed",
    "resend-uncertain": "resent to the uncertain",
    "login": "signed in",
    "logout": "signed out"
  };

  function renderAudit(entries) {
    var box = $("audit");
    clear(box);
    entries = entries || [];
    if (entries.length === 0) {
      box.appendChild(el("p", "muted", "Nothing yet."));
      return;
    }
    var t = table(["When", "Who", "What", "Campaign", "Detail"], "audit-table");
    entries.forEach(function (e) {
      var tr = el("tr");
      cell(tr, "When", e.at ? timeEl(e.at) : "");
      cell(tr, "Who", e.who);
      cell(tr, "What", ACTIONS[e.action] || e.action);
      cell(tr, "Campaign", e.campaign === null || e.campaign === undefined ? "all" : e.campaign);
      cell(tr, "Detail", e.detail, "detail");
      t.body.appendChild(tr);
    });
    box.appendChild(t.table);
  }

  // ---- Actions, each confirmed in a dialog ----

  function campaignOf(key) {
    var list = (status && status.campaigns) || [];
    for (var i = 0; i < list.length; i += 1) {
      if (campaignKey(list[i]) === key) { return list[i]; }
    }
    return null;
  }

  function campaignField(key) { return key === "" ? null : key; }

  function askPause() {
    ask({
      path: "api/pause", body: {},
      title: "Pause sending?",
      text: "The message being sent finishes; no new message starts in any campaign until you resume. Written to the audit log.",
      button: "Pause sending"
    });
  }

  function askResume() {
    ask({
      path: "api/resume", body: {},
      title: "Resume sending?",
      text: "Every campaign is looked at again and sends what is due, within the day budget, the pacing and the trust gate. Written to the audit log.",
      button: "Resume sending"
    });
  }

  function askRetry(key) {
    var c = campaignOf(key);
    var n = c && c.counts ? Number(c.counts.failed || 0) : 0;
    var name = c ? campaignLabel(c) : key;
    ask({
      path: "api/retry-failed", body: { campaign: campaignField(key) },
      title: "Retry the failed messages of " + name + "?",
      text: "The " + plural(n, "person", "people") + " whose message the server refused permanently in campaign " + name +
        " are mailed again at its next pass (as send --retry-failed), within the day budget and the trust gate. Fix the cause first (the server's reply, listed under people who need attention), or they fail again. Written to the audit log.",
      button: "Retry " + plural(n, "message")
    });
  }

  function askResend(key) {
    var c = campaignOf(key);
    var n = c && c.counts ? Number(c.counts.uncertain || 0) : 0;
    var name = c ? campaignLabel(c) : key;
    ask({
      path: "api/resend-uncertain", body: { campaign: campaignField(key) },
      title: "Resend to the uncertain people of " + name + "?",
      text: "The message to " + plural(n, "person", "people") + " in campaign " + name +
        " may or may not have arrived (the service stopped, or the connection dropped, while it was being sent). They are mailed again at its next pass (as send --resend-uncertain): some of them may get it twice. Written to the audit log.",
      button: "Resend to " + plural(n, "person", "people")
    });
  }

  function loadActor() {
    try { return window.localStorage.getItem(ACTOR_KEY) || ""; } catch (ignored) { return ""; }
  }

  function saveActor(name) {
    try { window.localStorage.setItem(ACTOR_KEY, name); } catch (ignored) { /* private mode: typed again next time */ }
  }

  function setBusy(busy) {
    $("confirm").disabled = busy;
    $("actor").disabled = busy;
  }

  function ask(action) {
    var dialog = $("confirm-dialog");
    if (dialog.open) { return; }
    pending = action;
    setText($("confirm-title"), action.title);
    setText($("confirm-text"), action.text);
    setText($("confirm"), action.button || "Confirm");
    setText($("confirm-error"), "");
    var actor = $("actor");
    if (!actor.value) { actor.value = loadActor(); }
    setBusy(false);
    dialog.showModal();
    (actor.value ? $("confirm") : actor).focus();
  }

  function confirmAction(event) {
    event.preventDefault();
    var action = pending;
    if (!action || $("confirm").disabled) { return; }
    var name = $("actor").value.trim();
    if (!name) {
      setText($("confirm-error"), "Type your name: the audit log records who did what.");
      $("actor").focus();
      return;
    }
    saveActor(name);
    setBusy(true);
    setText($("confirm-error"), "");
    var body = { actor: name };
    Object.keys(action.body).forEach(function (k) { body[k] = action.body[k]; });
    request("POST", action.path, body).then(function (res) {
      if (res.status === 401) { showSignIn("Your session has ended: sign in again."); return; }
      if (res.ok) {
        closeDialog(action);
        showResult(true, (res.data && res.data.message) || "Done.");
      } else {
        failed(action, errorText(res));
      }
      refreshAudit();
    }, function () {
      failed(action, "The service did not answer: look at the audit log before trying again.");
      refreshAudit();
    });
  }

  function closeDialog(action) {
    if (pending === action && $("confirm-dialog").open) { $("confirm-dialog").close(); }
  }

  // An error goes in the dialog while it is open for this action, else under the buttons.
  function failed(action, text) {
    if (pending === action && $("confirm-dialog").open) {
      setBusy(false);
      setText($("confirm-error"), text);
    } else {
      showResult(false, text);
    }
  }

  function showResult(ok, text) {
    var result = $("action-result");
    result.className = "action-result " + (ok ? "ok" : "bad");
    setText(result, new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) + ": " + text);
  }

  function start() {
    $("login").addEventListener("submit", signIn);
    $("logout").addEventListener("click", signOut);
    $("pause").addEventListener("click", askPause);
    $("resume").addEventListener("click", askResume);
    $("search").addEventListener("input", scheduleSearch);
    $("confirm-form").addEventListener("submit", confirmAction);
    $("cancel").addEventListener("click", function () { $("confirm-dialog").close(); });
    $("confirm-dialog").addEventListener("close", function () { pending = null; setBusy(false); });
    // Escape does not close the dialog while its request is under way: its answer shows there.
    $("confirm-dialog").addEventListener("cancel", function (event) { if ($("confirm").disabled) { event.preventDefault(); } });
    checkSession();
  }

  start();
}());
