// Shared by the pages that show a process in the bpmn-js viewer (ticket, replay, heat map):
// closeloopDiagram.localize(xml) gives the diagram its labels in the reader's language, and the ticket
// page's viewer (#diagram) highlights the ticket's current elements.
(function () {
  "use strict";
  var SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core";

  // The property names that carry a label in the page's language, best first: the lifecycle writes
  // name.zh_Hans; name_zh (the engine's other spelling) and the bare language are accepted too.
  function wantedNames(lang) {
    var locale = String(lang || "").replace("-", "_");
    if (!locale) { return []; }
    var base = locale.split("_")[0];
    return ["name." + locale, "name_" + locale, "name." + base, "name_" + base];
  }

  // The BPMN text with each element's (task, event, gateway, flow, lane, participant) name replaced by
  // its name in the reader's language, where the process owner gave one; otherwise unchanged.  The
  // names are read from the diagram's own spiffworkflow:property extensions, so every version of every
  // process is localised the way it was drawn.  Only for viewing: an editor must keep the drawn names.
  function localize(xml, lang) {
    var wanted = wantedNames(lang || document.documentElement.lang);
    if (!xml || !wanted.length || !window.DOMParser) { return xml; }
    var doc = new window.DOMParser().parseFromString(xml, "application/xml");
    if (doc.getElementsByTagName("parsererror").length) { return xml; }
    var best = [];
    var props = doc.getElementsByTagNameNS(SPIFF, "property");
    for (var i = 0; i < props.length; i += 1) {
      var rank = wanted.indexOf(props[i].getAttribute("name"));
      var value = props[i].getAttribute("value");
      if (rank < 0 || !value) { continue; }
      var owner = props[i].parentNode;
      while (owner && owner.nodeType === 1 && !owner.hasAttribute("id")) { owner = owner.parentNode; }
      if (!owner || owner.nodeType !== 1) { continue; }
      var known = best.filter(function (b) { return b.owner === owner; })[0];
      if (!known) { best.push({ owner: owner, rank: rank, value: value }); }
      else if (rank < known.rank) { known.rank = rank; known.value = value; }
    }
    if (!best.length) { return xml; }
    best.forEach(function (b) { b.owner.setAttribute("name", b.value); });
    return new window.XMLSerializer().serializeToString(doc);
  }

  window.closeloopDiagram = { localize: localize };

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("diagram");
    if (!box || !window.BpmnJS || !box.dataset.source) { return; }
    fetch(box.dataset.source, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (info) {
        var viewer = new window.BpmnJS({ container: box });
        return viewer.importXML(localize(info.xml)).then(function () {
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
}());
