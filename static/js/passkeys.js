// Passkeys (WebAuthn) for the second factor: the one step of Kohtaamo that needs JavaScript,
// because only the browser can talk to an authenticator. Buttons carry their URLs and messages
// in data attributes and stay hidden where this script does not run or the browser has no
// passkeys; the code form next to them works without it.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !PublicKeyCredential.parseCreationOptionsFromJSON) {
    return;
  }
  var csrf = document.querySelector('meta[name="csrf-token"]');
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf ? csrf.content : ""},
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().then(function (data) { return {ok: response.ok, data: data}; });
    });
  }
  function say(button, text) {
    var out = document.getElementById(button.dataset.status);
    if (out) { out.textContent = text; }
  }
  function wire(button, ceremony) {
    button.hidden = false;
    button.addEventListener("click", function () {
      say(button, button.dataset.working || "");
      post(button.dataset.options).then(function (answer) {
        if (!answer.ok) { throw new Error(answer.data.error || ""); }
        return ceremony(answer.data);
      }).then(function (credential) {
        var field = button.dataset.nameField && document.getElementById(button.dataset.nameField);
        return post(button.dataset.submit, {credential: credential.toJSON(), name: field ? field.value : ""});
      }).then(function (answer) {
        if (answer.ok && answer.data.redirect) {
          window.location.assign(answer.data.redirect);
        } else {
          say(button, answer.data.error || button.dataset.failed);
        }
      }).catch(function () {
        say(button, button.dataset.failed);
      });
    });
  }
  document.querySelectorAll("[data-passkey-register]").forEach(function (button) {
    wire(button, function (options) {
      return navigator.credentials.create({publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options)});
    });
  });
  document.querySelectorAll("[data-passkey-login]").forEach(function (button) {
    wire(button, function (options) {
      return navigator.credentials.get({publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options)});
    });
  });
}());
