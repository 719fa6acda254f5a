/* KPI dashboards: draws the charts from the page's JSON island (#kpi-data) with Chart.js.
   No inline scripts or styles (CSP); every figure is also in the page's tables. */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }

  var BLUE = "#1565c0", ORANGE = "#ef6c00", GREY = "#9e9e9e";

  function make(canvas, config) {
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
    var chart = new window.Chart(canvas, config);
    canvas.dataset.rendered = String(config.data.datasets[0].data.filter(function (v) { return v !== null; }).length);
    return chart;
  }

  function percentAxis() {
    return { y: { min: 0, max: 100, ticks: { callback: function (v) { return v + " %"; } } } };
  }

  function trend(canvas, data) {
    var measure = canvas.dataset.measure;
    var periods = data.trends.periods;
    var reference = data.trends.reference[measure];
    var datasets = [{
      label: data.labels.measures[measure],
      data: periods.map(function (p) { return p[measure].pct; }),
      borderColor: BLUE, backgroundColor: BLUE, pointRadius: 4, spanGaps: true
    }];
    if (reference !== null && reference !== undefined) {
      datasets.push({
        label: data.labels.reference + " " + reference + " %",
        data: periods.map(function () { return reference; }),
        borderColor: ORANGE, borderDash: [6, 4], pointRadius: 0
      });
    }
    make(canvas, {
      type: "line",
      data: { labels: periods.map(function (p) { return p.label; }), datasets: datasets },
      options: {
        scales: percentAxis(),
        plugins: {
          legend: { position: "bottom" },
          tooltip: { callbacks: { afterLabel: function (item) {
            if (item.datasetIndex !== 0) return "";
            var figure = periods[item.dataIndex][measure];
            return figure.num + " / " + figure.den;
          } } }
        },
        onClick: function (_event, elements) {
          if (elements.length) window.location.href = periods[elements[0].index].urls[measure].num;
        }
      }
    });
  }

  function bars(canvas, labels, values, label, color, options) {
    make(canvas, {
      type: "bar",
      data: { labels: labels, datasets: [{ label: label, data: values, backgroundColor: color }] },
      options: Object.assign({ plugins: { legend: { display: false } } }, options || {})
    });
  }

  function attainment(canvas, data, ratios, labels) {
    bars(canvas, labels, ratios.map(function (r) { return r.pct; }), data.labels.attainment, BLUE, {
      scales: percentAxis(),
      plugins: { legend: { display: false }, tooltip: { callbacks: { afterLabel: function (item) {
        var r = ratios[item.dataIndex];
        return r.num + " / " + r.den;
      } } } }
    });
  }

  function pareto(canvas, data) {
    var causes = data.overview.root_causes;
    make(canvas, {
      type: "bar",
      data: {
        labels: causes.map(function (c) { return data.labels.causes[c.code] || c.code; }),
        datasets: [
          { label: data.labels.tickets, data: causes.map(function (c) { return c.count; }), backgroundColor: BLUE, yAxisID: "y" },
          { label: data.labels.cumulative, data: causes.map(function (c) { return c.cumulative_pct; }), type: "line",
            borderColor: ORANGE, backgroundColor: ORANGE, yAxisID: "y1" }
        ]
      },
      options: {
        plugins: { legend: { position: "bottom" } },
        scales: { y: { beginAtZero: true }, y1: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false } } }
      }
    });
  }

  ready(function () {
    var island = document.getElementById("kpi-data");
    if (!island || !window.Chart) return;
    var data = JSON.parse(island.textContent);
    var o = data.overview;
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      switch (canvas.dataset.chart) {
        case "trend": trend(canvas, data); break;
        case "response": bars(canvas, data.labels.response, o.distributions.response_min.counts, data.labels.tickets, BLUE); break;
        case "resolution": bars(canvas, data.labels.resolution, o.distributions.resolution_h.counts, data.labels.tickets, GREY); break;
        case "sla-hour": attainment(canvas, data, o.sla_by_time.by_hour, data.labels.hours); break;
        case "sla-weekday": attainment(canvas, data, o.sla_by_time.by_weekday, data.labels.weekdays); break;
        case "pareto": pareto(canvas, data); break;
      }
    });
  });
})();
