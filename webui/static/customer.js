// The customer's portal (issue 11 §3): the progress part of the page is fetched again every few
// seconds and swapped in place (no full-page reload), and the device's failure curve is drawn with
// Chart.js from the JSON the page carries (the Content-Security-Policy forbids inline scripts).
(function () {
  "use strict";

  var POLL_MS = 4000;

  function pollProgress() {
    var box = document.getElementById("progress");
    if (!box || !box.dataset.src || !window.fetch) return;
    var last = box.innerHTML;
    function tick() {
      if (document.hidden) return;
      fetch(box.dataset.src, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html !== null && html !== last) {
            box.innerHTML = html;
            last = box.innerHTML;
            box.dataset.updated = String(Date.now());
          }
        })
        .catch(function () { /* offline for a moment: the next tick tries again */ });
    }
    window.setInterval(tick, POLL_MS);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) tick(); });
  }

  function drawCurve() {
    var canvas = document.getElementById("failure-curve");
    var source = document.getElementById("failure-curve-data");
    if (!canvas || !source || !window.Chart) return;
    var data = JSON.parse(source.textContent);
    var chart = new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.months.map(function (m) { return m.slice(2); }),
        datasets: [{ label: data.label, data: data.failures, backgroundColor: "#1565c0" }]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0, stepSize: 1 } } }
      }
    });
    canvas.dataset.drawn = String(chart.data.datasets[0].data.length);
  }

  document.addEventListener("DOMContentLoaded", function () {
    pollProgress();
    drawCurve();
  });
})();
