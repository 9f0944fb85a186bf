/* Barong console: toasts (HX-Trigger "toast") and keyboard shortcuts. htmx and its
   config (422 swaps, CSRF header) come from base.html; failed requests are reported by app.js. */
(function () {
  "use strict";
  function toast(message, level) {
    var box = document.getElementById("toasts");
    if (!box || !message) return;
    var el = document.createElement("div");
    el.className = "toast " + (level || "success");
    el.setAttribute("role", level === "error" ? "alert" : "status");
    el.textContent = message;
    box.appendChild(el);
    setTimeout(function () { el.classList.add("leaving"); }, 3500);
    setTimeout(function () { el.remove(); }, 4000);
  }
  window.consoleToast = toast;

  document.body.addEventListener("toast", function (e) {
    toast(e.detail.message, e.detail.level);
  });
  // A refusal that carries its own toast needs no generic "something went wrong" (app.js).
  document.body.addEventListener("htmx:responseError", function (e) {
    var trigger = e.detail.xhr && e.detail.xhr.getResponseHeader("HX-Trigger");
    if (trigger && trigger.indexOf('"toast"') !== -1) e.stopPropagation();
  });

  // Keyboard shortcuts on pages that declare them: <a data-key="j">, <button data-key="a">.
  var armed = null, armedAt = 0;
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) {
      if (e.key === "Escape") t.blur();
      return;
    }
    var key = e.key.toLowerCase();
    var target = document.querySelector('[data-key~="' + key + '"]');
    if (!target) return;
    e.preventDefault();
    if (target.dataset.focus) {
      var f = document.querySelector(target.dataset.focus);
      if (f) { f.focus(); return; }
    }
    // data-key-confirm: a consequential shortcut asks first — the first press arms it
    // (message shown), only a second press of the same key within 3 s acts.
    if (target.dataset.keyConfirm !== undefined) {
      if (armed !== target || Date.now() - armedAt > 3000) {
        armed = target; armedAt = Date.now();
        target.classList.add("armed");
        toast(target.dataset.keyConfirm, "warning");
        return;
      }
      armed = null; target.classList.remove("armed");
    }
    target.click();
  });
})();
