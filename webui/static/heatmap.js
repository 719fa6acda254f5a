// The process heat map (issue 13) drawn on the diagram: every flow tickets took gets its count as a label
// and a width by traffic, every step its visits as a badge and a colour by its median stay, the longest
// waits an outline.  The numbers come from the page's JSON island; the table beside it is the server's.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var box = document.getElementById("heatmap-diagram");
  var source = document.getElementById("heatmap-data");
  if (!box || !source) { return; }
  var info = JSON.parse(source.textContent);
  if (!window.BpmnJS) { box.dataset.error = "no viewer"; return; }
  var localize = (window.closeloopDiagram && window.closeloopDiagram.localize) || function (x) { return x; };

  function label(className, text, title) {
    var span = document.createElement("span");
    span.className = className;
    span.textContent = text;
    if (title) { span.title = title; }
    return span;
  }

  // Where a flow's label sits: the middle of its middle segment.
  function middle(flow) {
    var points = flow.waypoints || [];
    if (points.length < 2) { return { top: 0, left: 0 }; }
    var i = Math.floor((points.length - 1) / 2);
    var x = (points[i].x + points[i + 1].x) / 2;
    var y = (points[i].y + points[i + 1].y) / 2;
    // A connection's overlay box is its waypoints' bounding box.
    var left = Math.min.apply(null, points.map(function (p) { return p.x; }));
    var top = Math.min.apply(null, points.map(function (p) { return p.y; }));
    return { top: Math.round(y - top) - 10, left: Math.round(x - left) - 8 };
  }

  var viewer = new window.BpmnJS({ container: box });
  viewer.importXML(localize(info.xml)).then(function () {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    var overlays = viewer.get("overlays");
    canvas.zoom("fit-viewport", "auto");
    var drawnNodes = [];
    Object.keys(info.nodes).forEach(function (id) {
      var node = info.nodes[id];
      var shape = registry.get(id);
      if (!shape || shape.waypoints) { return; }
      canvas.addMarker(id, "heat-" + node.level);
      if (info.longest.indexOf(id) >= 0) { canvas.addMarker(id, "heat-longest"); }
      var title = node.visits + " · " + node.median + " / " + node.p90;
      overlays.add(id, "heat", { position: { top: -12, right: 14 }, html: label("node-count", String(node.visits), title) });
      drawnNodes.push(id + "=" + node.visits);
    });
    var flows = registry.filter(function (e) { return e.type === "bpmn:SequenceFlow" && e.source && e.target; });
    var most = 1;
    flows.forEach(function (f) { most = Math.max(most, info.flows[f.source.id + "->" + f.target.id] || 0); });
    var drawnFlows = [];
    flows.forEach(function (flow) {
      var n = info.flows[flow.source.id + "->" + flow.target.id] || 0;
      if (!n) { return; }
      canvas.addMarker(flow.id, "heat-flow");
      canvas.addMarker(flow.id, "heat-width-" + Math.max(1, Math.ceil(4 * n / most)));
      overlays.add(flow.id, "heat", { position: middle(flow), html: label("flow-count", String(n)) });
      drawnFlows.push(flow.id + "=" + n);
    });
    box.dataset.nodes = drawnNodes.sort().join(" ");
    box.dataset.flows = drawnFlows.sort().join(" ");
    box.dataset.rendered = String(registry.getAll().length);
  }).catch(function (err) { box.dataset.error = String(err); box.textContent = String(err); });
});
