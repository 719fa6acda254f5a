// The diff view (issue 12 §1): the running version and the draft side by side in the bpmn-js viewer,
// removed and changed elements coloured on the left, added and changed ones on the right.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("diff");
    if (!box || !window.BpmnJS) { return; }
    fetch(box.dataset.source, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (info) {
        var file = box.dataset.file;
        var mine = info.changes.filter(function (c) { return c.file === file; });
        function show(container, xml, kinds) {
          var viewer = new window.BpmnJS({ container: container });
          var text = window.closeloopDiagram ? window.closeloopDiagram.localize(xml) : xml;
          return viewer.importXML(text).then(function () {
            var canvas = viewer.get("canvas");
            var registry = viewer.get("elementRegistry");
            canvas.zoom("fit-viewport", "auto");
            var marked = [];
            mine.forEach(function (c) {
              if (kinds.indexOf(c.change) >= 0 && registry.get(c.element_id)) {
                canvas.addMarker(c.element_id, "cl-" + c.change);
                marked.push(c.change + ":" + c.element_id);
              }
            });
            container.dataset.marked = marked.join(" ");
          });
        }
        return Promise.all([
          show(document.getElementById("diff-running"), info.running_xml, ["removed", "changed"]),
          show(document.getElementById("diff-draft"), info.draft_xml, ["added", "changed"])
        ]);
      })
      .then(function () { box.dataset.ready = "1"; });
  });
})();
