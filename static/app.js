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

  // Files over the limit are refused by the server anyway; say so before sending them.
  document.addEventListener("change", function (evt) {
    var input = evt.target;
    if (!input.matches || !input.matches("input[type=file][data-max-size]")) { return; }
    var max = parseInt(input.getAttribute("data-max-size"), 10);
    var tooBig = Array.prototype.some.call(input.files || [], function (f) { return f.size > max; });
    input.setCustomValidity(tooBig ? (input.getAttribute("data-too-large") || "Too large") : "");
    if (tooBig) { input.reportValidity(); }
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
