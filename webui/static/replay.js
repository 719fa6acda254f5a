// The auditor's replay (issue 13): the ticket's diagram at its deployment, the path taken coloured with
// a count on what ran more than once, and a step slider (← → keys) that shows one step's panel and
// highlights its element.  The steps themselves are rendered by the server; this only moves between them.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var box = document.getElementById("replay-diagram");
  var source = document.getElementById("replay-data");
  if (!box || !source) { return; }
  var info = JSON.parse(source.textContent);
  var slider = document.getElementById("step-slider");
  var label = document.getElementById("step-label");
  var panels = Array.prototype.slice.call(document.querySelectorAll(".replay-step"));
  var canvas = null;
  var registry = null;
  var marked = [];

  function highlight(index) {
    if (!canvas) { return; }
    marked.forEach(function (id) { canvas.removeMarker(id, "step-now"); });
    marked = (info.steps[index] || []).filter(function (id) { return registry.get(id); });
    marked.forEach(function (id) { canvas.addMarker(id, "step-now"); });
    box.dataset.highlighted = marked.join(" ");
  }

  function show(index) {
    if (!panels.length) { return; }
    index = Math.max(0, Math.min(panels.length - 1, index));
    panels.forEach(function (panel, i) { panel.hidden = i !== index; });
    if (slider) { slider.value = String(index); }
    if (label) { label.textContent = String(index + 1); }
    box.dataset.step = String(index);
    highlight(index);
  }

  function current() { return slider ? Number(slider.value) : 0; }

  if (slider) { slider.addEventListener("input", function () { show(current()); }); }
  var prev = document.getElementById("step-prev");
  var next = document.getElementById("step-next");
  if (prev) { prev.addEventListener("click", function () { show(current() - 1); }); }
  if (next) { next.addEventListener("click", function () { show(current() + 1); }); }
  document.addEventListener("keydown", function (event) {
    var tag = (event.target && event.target.tagName) || "";
    if (tag === "INPUT" && event.target !== slider) { return; }
    if (tag === "TEXTAREA" || tag === "SELECT") { return; }
    if (event.key === "ArrowLeft" || event.key === "PageUp") { show(current() - 1); event.preventDefault(); }
    if (event.key === "ArrowRight" || event.key === "PageDown") { show(current() + 1); event.preventDefault(); }
  });

  function badge(overlays, id, count) {
    var span = document.createElement("span");
    span.className = "run-count";
    span.textContent = "×" + count;
    overlays.add(id, "run-count", { position: { top: -12, right: 12 }, html: span });
  }

  if (!window.BpmnJS) { box.dataset.error = "no viewer"; show(0); return; }
  var viewer = new window.BpmnJS({ container: box });
  var localize = (window.closeloopDiagram && window.closeloopDiagram.localize) || function (x) { return x; };
  viewer.importXML(localize(info.xml)).then(function () {  // labels in the reader's language (diagram.js)
    canvas = viewer.get("canvas");
    registry = viewer.get("elementRegistry");
    var overlays = viewer.get("overlays");
    canvas.zoom("fit-viewport", "auto");
    var counted = [];
    Object.keys(info.elementCounts).forEach(function (id) {
      var n = info.elementCounts[id];
      if (!registry.get(id)) { return; }
      canvas.addMarker(id, "ran");
      if (n > 1) { badge(overlays, id, n); counted.push(id + "=" + n); }
    });
    registry.filter(function (e) { return e.type === "bpmn:SequenceFlow" && e.source && e.target; })
      .forEach(function (flow) {
        var n = info.flowCounts[flow.source.id + "->" + flow.target.id] || 0;
        if (!n) { return; }
        canvas.addMarker(flow.id, "taken");
        if (n > 1) { badge(overlays, flow.id, n); counted.push(flow.id + "=" + n); }
      });
    box.dataset.counts = counted.sort().join(" ");
    box.dataset.rendered = String(registry.getAll().length);
    show(current());
  }).catch(function (err) { box.dataset.error = String(err); box.textContent = String(err); show(current()); });
});
