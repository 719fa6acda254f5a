// An owner's job page (impact preview, migration) polls its fragment until the job is done or failed
// (no inline script: the CSP forbids it).
(function () {
  "use strict";
  const box = document.getElementById("owner-job");
  if (!box) return;
  const url = box.dataset.fragment;
  const finished = (state) => state === "done" || state === "failed";
  async function refresh() {
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (response.ok) {
        box.innerHTML = await response.text();
        const state = box.querySelector("[data-state]");
        box.dataset.state = state ? state.dataset.state : box.dataset.state;
      }
    } catch (err) {
      // Offline for a moment: keep what is shown and try again at the next tick.
    }
    if (!finished(box.dataset.state)) window.setTimeout(refresh, 1000);
  }
  if (!finished(box.dataset.state)) window.setTimeout(refresh, 1000);
})();
