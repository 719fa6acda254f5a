// The supervisors' overview polls its fragment and swaps it in (no inline script: the CSP forbids it).
(function () {
  "use strict";
  const box = document.getElementById("overview");
  if (!box) return;
  const url = box.dataset.fragment;
  const seconds = Math.max(5, parseInt(box.dataset.interval || "30", 10));
  async function refresh() {
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (response.ok) {
        box.innerHTML = await response.text();
        box.dataset.refreshed = String(Date.now());
      }
    } catch (err) {
      // Offline for a moment: keep what is shown and try again at the next tick.
    }
  }
  window.setInterval(refresh, seconds * 1000);
})();
