// Shared by the process editor's pages: CSRF-protected JSON calls and the page's words (issue 12 §1).
(function () {
  "use strict";
  function csrf() {
    var field = document.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }
  function words() {
    var node = document.getElementById("editor-i18n");
    return node ? JSON.parse(node.textContent) : {};
  }
  // POST json → {ok, status, body}; never throws on a refusal (the body names the field and reason).
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (json) { return { ok: response.ok, status: response.status, body: json }; });
    });
  }
  function refusalText(body) {
    var error = body && body.error;
    if (!error) { return ""; }
    var fields = (error.fields || []).map(function (f) { return f.message; });
    return fields.length ? fields.join(" ") : error.message;
  }
  function setStatus(text, kind) {
    var node = document.getElementById("editor-status");
    if (!node) { return; }
    node.textContent = text;
    node.className = kind || "";
  }
  window.closeloopEditor = { post: post, words: words, refusalText: refusalText, setStatus: setStatus };
})();
