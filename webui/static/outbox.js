// Live preview of a message template on a real ticket: as the admin types, the server checks the template
// (sandbox, known variables) and renders it; a refusal shows its line and reason instead of the preview.
(function () {
  "use strict";
  var form = document.getElementById("template-editor");
  if (!form) { return; }
  var subject = document.getElementById("preview-subject");
  var body = document.getElementById("preview-body");
  var problem = document.getElementById("preview-error");
  var timer = null;
  var latest = 0;

  function refresh() {
    var asked = ++latest;
    fetch(form.dataset.preview, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        if (asked !== latest) { return; }
        problem.hidden = !answer.error;
        problem.textContent = answer.error || "";
        subject.textContent = answer.error ? "" : answer.subject;
        body.textContent = answer.error ? "" : answer.body;
      })
      .catch(function () { /* offline: the Preview button still works */ });
  }

  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
  refresh();
})();
