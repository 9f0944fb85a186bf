/* Progressive enhancements on top of htmx. Every form also works without this file. */
(function () {
  "use strict";

  function flash(message, kind) {
    var box = document.getElementById("flashes");
    if (!box) { return; }
    var div = document.createElement("div");
    div.className = "flash flash-" + (kind || "error");
    div.setAttribute("role", kind === "error" ? "alert" : "status");
    var p = document.createElement("p");
    p.textContent = message;
    div.appendChild(p);
    box.innerHTML = "";
    box.appendChild(div);
  }

  // Upload progress: <progress data-upload-progress> inside the form being sent.
  document.addEventListener("htmx:xhr:progress", function (evt) {
    var form = evt.target.closest ? evt.target.closest("form") : null;
    var bar = form && form.querySelector("[data-upload-progress]");
    if (!bar || !evt.detail.lengthComputable) { return; }
    bar.hidden = false;
    bar.value = Math.round((evt.detail.loaded / evt.detail.total) * 100);
    var label = form.querySelector("[data-upload-progress-label]");
    if (label) { label.hidden = false; label.textContent = bar.value + "%"; }
  });

  // Files over the limit (data-max-size, the server's BARONG_UPLOAD_MAX_SIZE) are refused by
  // the server anyway: say so next to the field, and never send them (the forms are
  // `novalidate`, so the browser's own validity check would not stop the submit).
  function oversized(input) {
    var max = parseInt(input.getAttribute("data-max-size"), 10);
    if (!max) { return false; }
    return Array.prototype.some.call(input.files || [], function (f) { return f.size > max; });
  }

  function showSize(input, tooBig) {
    var message = input.getAttribute("data-too-large") || "This file is too large.";
    var id = (input.id || input.name) + "-size-error";
    var note = document.getElementById(id);
    input.setCustomValidity(tooBig ? message : "");
    if (tooBig && !note) {
      note = document.createElement("p");
      note.className = "error";
      note.id = id;
      note.setAttribute("role", "alert");
      input.insertAdjacentElement("afterend", note);
      var described = input.getAttribute("aria-describedby");
      input.setAttribute("aria-describedby", described ? described + " " + id : id);
    }
    if (note) { note.textContent = tooBig ? message : ""; note.hidden = !tooBig; }
    if (tooBig) { input.setAttribute("aria-invalid", "true"); } else if (note) { input.removeAttribute("aria-invalid"); }
  }

  document.addEventListener("change", function (evt) {
    var input = evt.target;
    if (!input.matches || !input.matches("input[type=file][data-max-size]")) { return; }
    showSize(input, oversized(input));
  });

  // One submission per form, however often it is clicked (or Enter is pressed): a form
  // in flight ignores further submits until htmx's request has finished (a plain form:
  // until the page is left, or a few seconds). Runs in the capture phase, before htmx's own
  // listener on the form. The server refuses a replay anyway (one-time form nonces).
  var PLAIN_FORM_RELEASE_MS = 5000;

  function viaHtmx(form) {
    return form.matches("[hx-post],[hx-put],[hx-patch],[hx-delete],[hx-get],[data-hx-post],[data-hx-get]");
  }

  function buttons(form) {
    return Array.prototype.slice.call(form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]"));
  }

  function release(form) {
    if (!form || !form.dataset || !form.dataset.submitting) { return; }
    delete form.dataset.submitting;
    form.removeAttribute("aria-busy");
    buttons(form).forEach(function (b) {
      if (b.dataset.lockedBySubmit) { b.disabled = false; delete b.dataset.lockedBySubmit; }
    });
  }

  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (!(form instanceof HTMLFormElement) || form.hasAttribute("data-allow-resubmit")) { return; }
    var tooBig = Array.prototype.filter.call(form.querySelectorAll("input[type=file][data-max-size]"), oversized);
    if (tooBig.length || form.dataset.submitting) {
      evt.preventDefault();
      evt.stopImmediatePropagation();
      tooBig.forEach(function (input) { showSize(input, true); });
      if (tooBig.length) { tooBig[0].focus(); }
      return;
    }
    form.dataset.submitting = "1";
    form.setAttribute("aria-busy", "true");
    // disabled after the event: the browser and htmx read the form (and its submitter) first
    setTimeout(function () {
      if (!form.dataset.submitting) { return; }
      buttons(form).forEach(function (b) {
        if (!b.disabled) { b.disabled = true; b.dataset.lockedBySubmit = "1"; }
      });
    }, 0);
    if (!viaHtmx(form)) { setTimeout(function () { release(form); }, PLAIN_FORM_RELEASE_MS); }
  }, true);

  ["htmx:afterRequest", "htmx:sendError", "htmx:timeout"].forEach(function (name) {
    document.addEventListener(name, function (evt) {
      var elt = evt.detail && evt.detail.elt;
      release(elt && elt.closest ? elt.closest("form") : null);
    });
  });

  // Back to a page kept in the browser's cache: its forms can be sent again.
  window.addEventListener("pageshow", function () {
    Array.prototype.forEach.call(document.forms, release);
  });

  // Errors htmx does not swap (403, 404, 413, 429, 500…): tell the user instead of doing nothing.
  document.addEventListener("htmx:responseError", function (evt) {
    var status = evt.detail.xhr.status;
    var messages = document.body.dataset;
    var text = status === 413 ? messages.msgTooLarge : status === 429 ? messages.msgTooMany : messages.msgFailed;
    flash(text || "Something went wrong.", "error");
  });
  document.addEventListener("htmx:sendError", function () {
    flash(document.body.dataset.msgOffline || "Network error.", "error");
  });

  // New content (the page, or a swapped fragment): start countdowns and move focus to the
  // first invalid field, for keyboard and screen-reader users.
  document.addEventListener("htmx:load", function (evt) {
    var root = evt.detail.elt;
    if (!root || !root.querySelectorAll) { return; }
    startCountdowns(root);
    var bad = root.matches("[aria-invalid=true]") ? root : root.querySelector("[aria-invalid=true]");
    if (bad) { bad.focus(); }
  });

  // "Resend in 42 s" countdowns: <button data-wait="42" data-wait-label="Resend in {seconds} s">.
  function startCountdowns(root) {
    (root || document).querySelectorAll("[data-wait]").forEach(function (btn) {
      var left = parseInt(btn.getAttribute("data-wait"), 10) || 0;
      if (left <= 0 || btn.dataset.counting) { return; }
      btn.dataset.counting = "1";
      var original = btn.textContent;
      var template = btn.getAttribute("data-wait-label") || "{seconds}";
      var note = document.getElementById(btn.getAttribute("aria-describedby"));
      if (note) { note.hidden = true; }  // the button itself counts down
      btn.disabled = true;
      var timer = setInterval(function () {
        left -= 1;
        if (left <= 0) {
          clearInterval(timer);
          btn.disabled = false;
          btn.textContent = original;
          return;
        }
        btn.textContent = template.replace("{seconds}", left);
      }, 1000);
      btn.textContent = template.replace("{seconds}", left);
    });
  }

  // Phones: the account navigation scrolls sideways; show the current page in it.
  document.addEventListener("DOMContentLoaded", function () {
    var current = document.querySelector(".side-nav [aria-current=page]");
    var nav = document.querySelector(".side-nav");
    if (current && nav && nav.scrollWidth > nav.clientWidth) {
      nav.scrollLeft = current.offsetLeft - (nav.clientWidth - current.offsetWidth) / 2;
    }
  });

  // Copy buttons: <button data-copy="#element-id">.
  document.addEventListener("click", function (evt) {
    var btn = evt.target.closest ? evt.target.closest("[data-copy]") : null;
    if (!btn) { return; }
    var source = document.querySelector(btn.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) { return; }
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      var done = btn.getAttribute("data-copied");
      if (done) { var old = btn.textContent; btn.textContent = done; setTimeout(function () { btn.textContent = old; }, 1500); }
    });
  });

})();
