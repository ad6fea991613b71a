// medmatch pages: the little that needs a script. Everything else works
// without it (forms post, links navigate).
(function () {
  "use strict";

  // Suggestions as you type (Chinese, pinyin or initials): an ARIA
  // combobox over GET /api/v1/suggest. Arrow keys move, Enter picks,
  // Escape closes; picking a record opens it, a term searches for it.
  function combobox(input) {
    var list = document.getElementById(input.getAttribute("aria-controls"));
    var url = input.getAttribute("data-suggest");
    var items = [], active = -1, timer = null, seq = 0;
    var kindLabel = { term: "词条", institution: "机构", achievement: "成果", need: "临床需求", team: "团队", enterprise: "企业", demand: "企业需求" };
    var paths = { achievement: "/achievements/", need: "/needs/", team: "/teams/", enterprise: "/enterprises/", demand: "/demands/" };

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }
    function show(sugg) {
      items = sugg;
      list.textContent = "";
      if (!sugg.length) { close(); return; }
      sugg.forEach(function (s, i) {
        var li = document.createElement("li");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        var t = document.createElement("span");
        t.textContent = s.text;
        var k = document.createElement("span");
        k.className = "kind";
        k.textContent = kindLabel[s.type] || "";
        li.appendChild(t);
        li.appendChild(k);
        li.addEventListener("mousedown", function (e) { e.preventDefault(); pick(i); });
        list.appendChild(li);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }
    function highlight(i) {
      var opts = list.querySelectorAll("[role=option]");
      opts.forEach(function (o, j) { o.setAttribute("aria-selected", j === i ? "true" : "false"); });
      active = i;
      if (i >= 0) input.setAttribute("aria-activedescendant", opts[i].id);
      else input.removeAttribute("aria-activedescendant");
    }
    function pick(i) {
      var s = items[i];
      if (!s) return;
      if (s.id && paths[s.type]) {
        window.location.href = paths[s.type] + encodeURIComponent(s.id);
        return;
      }
      input.value = s.text;
      close();
      input.form.submit();
    }
    function fetchSuggestions() {
      var q = input.value.trim();
      if (!q) { close(); return; }
      var mine = ++seq;
      fetch(url + "?q=" + encodeURIComponent(q) + "&limit=8", { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
        .then(function (body) { if (mine === seq) show(body.suggestions || []); })
        .catch(function () { close(); });
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(fetchSuggestions, 120);
    });
    input.addEventListener("keydown", function (e) {
      if (list.hidden) return;
      if (e.key === "ArrowDown") { e.preventDefault(); highlight(Math.min(active + 1, items.length - 1)); }
      else if (e.key === "ArrowUp") { e.preventDefault(); highlight(Math.max(active - 1, -1)); }
      else if (e.key === "Enter" && active >= 0) { e.preventDefault(); pick(active); }
      else if (e.key === "Escape") { close(); }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-suggest]").forEach(combobox);
    document.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
      s.addEventListener("change", function () { s.form.submit(); });
    });
    document.querySelectorAll("[data-print]").forEach(function (b) {
      b.addEventListener("click", function () { window.print(); });
    });
    // On a phone the facet panel starts folded unless a filter is on.
    var panel = document.querySelector("details.facets-all");
    if (panel && window.matchMedia("(max-width: 760px)").matches && !panel.querySelector("a.active")) {
      panel.open = false;
    }
  });
})();
