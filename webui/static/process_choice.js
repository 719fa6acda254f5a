// The intake page's process choice: without script the agent picks a process and presses the button
// (a GET that reloads the page with that process's form); with script, choosing is enough.
// No inline script (CSP).
(function () {
  "use strict";
  var choice = document.getElementById("process-choice");
  if (!choice) return;
  var select = document.getElementById("process-select");
  var button = document.getElementById("process-show");
  if (!select || !button) return;
  button.hidden = true;
  select.addEventListener("change", function () {
    choice.requestSubmit ? choice.requestSubmit() : choice.submit();
  });
})();
