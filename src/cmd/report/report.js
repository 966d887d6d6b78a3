(function () {
  "use strict";
  var table = document.getElementById("users");
  var search = document.getElementById("search");
  var count = document.getElementById("count");
  if (!table || !search || !count) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.map.call(body.rows, function (tr, i) {
    var cells = Array.prototype.map.call(tr.cells, function (td) { return td.textContent; });
    return { tr: tr, cells: cells, hay: cells.join(" ").toLowerCase(), rank: Number(tr.getAttribute("data-rank")), order: i };
  });
  var total = rows.length;

  function filter() {
    var terms = search.value.toLowerCase().split(/\s+/).filter(function (t) { return t.length > 0; });
    var shown = 0;
    rows.forEach(function (r) {
      var keep = terms.every(function (t) { return r.hay.indexOf(t) !== -1; });
      r.tr.hidden = !keep;
      if (keep) { shown += 1; }
    });
    count.textContent = shown + " of " + total + " users";
  }

  function compare(kind, col) {
    return function (a, b) {
      if (kind === "num") { return Number(a.cells[col]) - Number(b.cells[col]); }
      if (kind === "state" && a.rank !== b.rank) { return a.rank - b.rank; }
      return a.cells[col].localeCompare(b.cells[col]) || a.order - b.order;
    };
  }

  function sortBy(th) {
    var col = Number(th.getAttribute("data-col"));
    var kind = th.getAttribute("data-kind");
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var sorted = rows.slice().sort(compare(kind, col));
    if (!ascending) { sorted.reverse(); }
    var fragment = document.createDocumentFragment();
    sorted.forEach(function (r) { fragment.appendChild(r.tr); });
    body.appendChild(fragment);
  }

  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
    th.querySelector("button").addEventListener("click", function () { sortBy(th); });
  });
  search.addEventListener("input", filter);
  filter();
}());
