/* The customer pages' only script, and they work without it. A form sends once: after the
   first submit its buttons are disabled (a second tap on a slow phone network would post
   the same form again; the server ignores that too, but the customer need not wait for
   it). Nothing here
   opens a pop-up: a step that needs confirming (withdrawing) has a page of its own. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) { return; }
    if (form.dataset.sent === "true") { event.preventDefault(); return; }
    form.dataset.sent = "true";
    form.setAttribute("aria-busy", "true");
    window.setTimeout(function () {
      var buttons = form.querySelectorAll("button[type=submit]");
      for (var i = 0; i < buttons.length; i += 1) { buttons[i].disabled = true; }
    }, 0);
  });
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    var forms = document.querySelectorAll("form[data-sent]");
    for (var i = 0; i < forms.length; i += 1) {
      delete forms[i].dataset.sent;
      forms[i].removeAttribute("aria-busy");
      var buttons = forms[i].querySelectorAll("button[type=submit]");
      for (var j = 0; j < buttons.length; j += 1) { buttons[j].disabled = false; }
    }
  });
})();
