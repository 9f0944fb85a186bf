/* Passkey ceremonies for forms marked data-webauthn="create" | "get" (templates/account/passkeys.html,
   login_code.html, login.html, otp.html): on submit, fetch the options (POST data-options-url with the
   CSRF token), ask the browser (navigator.credentials), put the PublicKeyCredential JSON into the hidden
   field named by data-field, and submit the form for real. The server verifies everything. */
(function () {
  "use strict";
  if (window.__barongWebauthn) { return; }
  window.__barongWebauthn = true;

  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (e) { return ""; }
  }
  function fromB64(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) { s += "="; }
    return Uint8Array.from(atob(s), function (c) { return c.charCodeAt(0); }).buffer;
  }
  function toB64(buf) {
    var bytes = new Uint8Array(buf), s = "";
    for (var i = 0; i < bytes.length; i++) { s += String.fromCharCode(bytes[i]); }
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function creationOptions(o) {
    if (PublicKeyCredential.parseCreationOptionsFromJSON) { return PublicKeyCredential.parseCreationOptionsFromJSON(o); }
    o.challenge = fromB64(o.challenge);
    o.user.id = fromB64(o.user.id);
    (o.excludeCredentials || []).forEach(function (c) { c.id = fromB64(c.id); });
    return o;
  }
  function requestOptions(o) {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) { return PublicKeyCredential.parseRequestOptionsFromJSON(o); }
    o.challenge = fromB64(o.challenge);
    (o.allowCredentials || []).forEach(function (c) { c.id = fromB64(c.id); });
    return o;
  }
  function serialize(cred) {
    if (cred.toJSON) { return cred.toJSON(); }
    var r = cred.response, out = {id: cred.id, rawId: toB64(cred.rawId), type: cred.type,
                                  clientExtensionResults: cred.getClientExtensionResults(), response: {}};
    out.response.clientDataJSON = toB64(r.clientDataJSON);
    if (r.attestationObject) {
      out.response.attestationObject = toB64(r.attestationObject);
      if (r.getTransports) { out.response.transports = r.getTransports(); }
    } else {
      out.response.authenticatorData = toB64(r.authenticatorData);
      out.response.signature = toB64(r.signature);
      if (r.userHandle) { out.response.userHandle = toB64(r.userHandle); }
    }
    return out;
  }
  function say(form, key) {
    var box = form.querySelector("[data-webauthn-status]");
    if (box) { box.textContent = form.getAttribute(key) || ""; box.hidden = false; }
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var mode = form.getAttribute && form.getAttribute("data-webauthn");
    if (!mode) { return; }
    ev.preventDefault();
    if (!window.PublicKeyCredential || !navigator.credentials) { say(form, "data-msg-unsupported"); return; }
    var button = form.querySelector("button[type=submit]");
    if (button) { button.disabled = true; }
    fetch(form.getAttribute("data-options-url"), {
      method: "POST", credentials: "same-origin",
      headers: {"X-CSRFToken": csrf(), "Accept": "application/json"}
    }).then(function (resp) {
      if (!resp.ok) { throw new Error("options " + resp.status); }
      return resp.json();
    }).then(function (body) {
      var o = body.publicKey;
      return mode === "create" ? navigator.credentials.create({publicKey: creationOptions(o)})
                               : navigator.credentials.get({publicKey: requestOptions(o)});
    }).then(function (cred) {
      form.querySelector("input[name='" + form.getAttribute("data-field") + "']").value = JSON.stringify(serialize(cred));
      HTMLFormElement.prototype.submit.call(form);  // no second submit event
    }).catch(function () {
      say(form, "data-msg-failed");
      if (button) { button.disabled = false; }
    });
  });
})();
