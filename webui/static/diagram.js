// The ticket's process in the bpmn-js viewer, current elements highlighted.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var box = document.getElementById("diagram");
  if (!box || !window.BpmnJS) { return; }
  fetch(box.dataset.source, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (info) {
      var viewer = new window.BpmnJS({ container: box });
      return viewer.importXML(info.xml).then(function () {
        var canvas = viewer.get("canvas");
        var registry = viewer.get("elementRegistry");
        canvas.zoom("fit-viewport", "auto");  // centred: a wide diagram in a narrow box
        info.done.forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "done"); } });
        info.current.forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "current"); } });
        box.dataset.rendered = String(registry.getAll().length);
        box.dataset.current = info.current.join(" ");
      });
    })
    .catch(function (err) { box.dataset.error = String(err); box.textContent = String(err); });
});
