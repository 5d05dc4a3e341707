/* The console's own small script (no inline script anywhere: the Content-Security-Policy
   allows only files of the console). Everything works without it; it adds:
   - keyboard navigation of case lists: j/k or ArrowDown/ArrowUp move, Enter opens;
   - Ctrl+Enter (or Cmd+Enter) sends the composer's form;
   - the composer's tabs (one form at a time) and canned replies inserted into the text;
   - a task form's CSAT field only for the outcomes that take one (the customer was reached).
   Listeners are on the document, so parts of the page that htmx swaps keep working. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-keyboard-list] tr.case-row"));
  }

  function select(list, index) {
    if (!list.length) return;
    var i = Math.max(0, Math.min(list.length - 1, index));
    list.forEach(function (row) { row.classList.remove("selected"); });
    list[i].classList.add("selected");
    var link = list[i].querySelector("a");
    if (link) link.focus();
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter" && target.matches && target.matches("textarea[data-ctrl-enter]")) {
      event.preventDefault();
      var form = target.form;
      if (form) { form.requestSubmit ? form.requestSubmit() : form.submit(); }
      return;
    }
    if (typing(target) || event.altKey || event.ctrlKey || event.metaKey) return;
    var list = rows();
    if (!list.length) return;
    var current = list.findIndex(function (row) { return row.contains(document.activeElement) || row.classList.contains("selected"); });
    if (event.key === "j" || event.key === "ArrowDown") {
      event.preventDefault();
      select(list, current < 0 ? 0 : current + 1);
    } else if (event.key === "k" || event.key === "ArrowUp") {
      event.preventDefault();
      select(list, current < 0 ? 0 : current - 1);
    } else if (event.key === "Enter" && current >= 0 && !(target.tagName === "A")) {
      var link = list[current].querySelector("a");
      if (link) link.click();
    }
  });

  document.addEventListener("click", function (event) {
    var tab = event.target.closest && event.target.closest("[data-tabs] [role=tab]");
    if (!tab) return;
    var box = tab.closest("[data-tabs]");
    box.querySelectorAll("[role=tab]").forEach(function (other) {
      var selected = other === tab;
      other.setAttribute("aria-selected", selected ? "true" : "false");
      var panel = document.getElementById(other.getAttribute("aria-controls"));
      if (panel) { if (selected) panel.removeAttribute("data-inactive"); else panel.setAttribute("data-inactive", ""); }
    });
    var field = document.getElementById(tab.getAttribute("aria-controls"));
    var text = field && field.querySelector("textarea");
    if (text) text.focus();
  });

  document.addEventListener("change", function (event) {
    var picker = event.target;
    if (!picker.matches || !picker.matches("select[data-canned-for]") || !picker.value) return;
    var text = document.getElementById(picker.getAttribute("data-canned-for"));
    if (text) {
      text.value = text.value ? text.value + "\n" + picker.value : picker.value;
      text.focus();
    }
    picker.value = "";
  });

  document.addEventListener("change", function (event) {
    var outcome = event.target;
    if (!outcome.matches || !outcome.matches("select[data-csat-for]")) return;
    var field = document.getElementById(outcome.getAttribute("data-csat-for"));
    if (!field) return;
    var takes = (outcome.getAttribute("data-csat-outcomes") || "").split(" ");
    var shown = !outcome.value || takes.indexOf(outcome.value) >= 0;
    field.hidden = !shown;
    var score = field.querySelector("select");
    if (score && !shown) score.value = "";  // never sent with an outcome that takes none
  });
})();
