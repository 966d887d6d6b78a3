(function () {
  "use strict";
  var SHOWN = 500;
  var users = JSON.parse(document.getElementById("t2t-data").textContent);
  var list = document.getElementById("list");
  var search = document.getElementById("search");
  var count = document.getElementById("count");
  var meta = document.getElementById("meta");
  var frame = document.getElementById("frame");
  var tabHtml = document.getElementById("tab-html");
  var tabText = document.getElementById("tab-text");
  var eml = document.getElementById("eml");
  var selected = null;
  var view = "html";

  users.forEach(function (u) {
    u.problems = (u.error ? [u.error] : []).concat(u.link_errors);
    u.hay = [u.name || "", u.source, u.target, u.to.join(" "), u.locale, u.subject,
      u.guest ? "guest" : "member", u.problems.length ? "problem error" : "ok", u.message_id,
      u.batch ? "batch:" + u.batch : ""]
      .join(" ").toLowerCase();
  });

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function card(u) {
    var li = el("li", "user");
    li.setAttribute("data-source", u.source);
    li.tabIndex = 0;
    var line1 = el("div", "line1");
    line1.appendChild(el("span", "name", u.name || u.source));
    line1.appendChild(el("span", "chip locale", u.locale || "?"));
    if (u.guest) { line1.appendChild(el("span", "chip guest", "guest")); }
    if (u.batch) { line1.appendChild(el("span", "chip locale", u.batch)); }
    line1.appendChild(u.problems.length ? el("span", "chip bad", u.error ? "not rendered" : "link problem")
      : el("span", "chip ok", "links ok"));
    li.appendChild(line1);
    li.appendChild(el("div", "upns", u.source + " \u2192 " + u.target));
    li.appendChild(el("div", "to", "To: " + u.to.join(", ")));
    if (u.subject) { li.appendChild(el("div", "subject", u.subject)); }
    u.problems.forEach(function (p) { li.appendChild(el("div", "problem", p)); });
    li.addEventListener("click", function () { select(u, li); });
    li.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); select(u, li); }
    });
    return li;
  }

  function row(table, label, value, cls) {
    var tr = el("tr");
    tr.appendChild(el("th", "", label));
    tr.appendChild(el("td", cls || "", value));
    table.appendChild(tr);
  }

  function showMeta(u) {
    var table = el("table");
    row(table, "Source UPN", u.source);
    row(table, "Target UPN", u.target);
    row(table, "To", u.to.join(", "));
    row(table, "Subject", u.subject || "\u2014");
    row(table, "Locale", u.locale + (u.guest ? " (guest wording)" : ""));
    row(table, "Message-ID", u.message_id);
    row(table, "Link check", u.problems.length ? u.problems.join("\n") : "all links https on allowed hosts",
      u.problems.length ? "bad" : "good");
    meta.replaceChildren(table);
  }

  function showFrame() {
    if (!selected) { return; }
    var src = view === "html" ? selected.html : selected.text;
    frame.src = src || "about:blank";
    tabHtml.classList.toggle("active", view === "html");
    tabText.classList.toggle("active", view === "text");
  }

  function select(u, li) {
    selected = u;
    Array.prototype.forEach.call(list.querySelectorAll(".user.selected"), function (n) { n.classList.remove("selected"); });
    if (li) { li.classList.add("selected"); }
    showMeta(u);
    if (u.eml) { eml.href = u.eml; eml.removeAttribute("aria-disabled"); } else { eml.removeAttribute("href"); eml.setAttribute("aria-disabled", "true"); }
    showFrame();
  }

  function draw() {
    var terms = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    var matches = users.filter(function (u) {
      return terms.every(function (t) { return u.hay.indexOf(t) >= 0; });
    });
    var shown = matches.slice(0, SHOWN);
    list.replaceChildren.apply(list, shown.map(card));
    var text = matches.length + " of " + users.length + (users.length === 1 ? " person" : " people");
    if (matches.length > SHOWN) { text += " (first " + SHOWN + " shown; refine the search)"; }
    count.textContent = text;
    if (shown.length) {
      var keep = shown.indexOf(selected);
      select(keep >= 0 ? selected : shown[0], list.children[keep >= 0 ? keep : 0]);
    }
  }

  tabHtml.addEventListener("click", function () { view = "html"; showFrame(); });
  tabText.addEventListener("click", function () { view = "text"; showFrame(); });
  search.addEventListener("input", draw);
  list.addEventListener("keydown", function (ev) {
    if (ev.key !== "ArrowDown" && ev.key !== "ArrowUp") { return; }
    var items = Array.prototype.slice.call(list.children);
    var i = items.indexOf(document.activeElement);
    var next = items[ev.key === "ArrowDown" ? i + 1 : i - 1];
    if (next) { ev.preventDefault(); next.focus(); next.click(); }
  });
  draw();
}());
