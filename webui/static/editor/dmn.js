// A draft's decision table in dmn-js (issue 12 §1): edit, save into the draft, validate the whole draft.
(function () {
  "use strict";
  var E = window.closeloopEditor;
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("dmn-editor");
    if (!box || !window.DmnJS) { return; }
    var t = E.words();
    var modeler = new window.DmnJS({ container: document.getElementById("dmn-canvas") });
    window.closeloopDmn = modeler;  // for the browser tests and the console
    fetch(box.dataset.source, { credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (xml) { return modeler.importXML(xml); })
      .then(function () {
        var table = modeler.getViews().filter(function (v) { return v.type === "decisionTable"; })[0];
        if (table) { return modeler.open(table); }
        return undefined;
      })
      .then(function () { box.dataset.ready = "1"; })
      .catch(function (err) { E.setStatus(t.load_failed + " " + err.message, "error"); });

    function save() {
      E.setStatus(t.saving, "busy");
      return modeler.saveXML({ format: true }).then(function (result) {
        var files = {};
        files[box.dataset.file] = result.xml;
        return E.post(box.dataset.save, { files: files });
      }).then(function (r) {
        if (!r.ok) { E.setStatus(t.save_failed + " " + E.refusalText(r.body), "error"); throw new Error("not saved"); }
        E.setStatus(t.saved, "ok");
        box.dataset.saved = r.body.updated_at;
      });
    }
    function validate() {
      return save().then(function () { return E.post(box.dataset.validate, {}); }).then(function (r) {
        var problems = r.body.problems || [];
        var list = document.getElementById("problem-list");
        list.textContent = "";
        problems.forEach(function (p) {
          var item = document.createElement("li");
          item.dataset.element = p.element_id || "";
          item.textContent = p.message;
          list.appendChild(item);
        });
        document.getElementById("problems").hidden = problems.length === 0;
        E.setStatus(problems.length ? t.problems + ": " + problems.length : t.no_problems, problems.length ? "error" : "ok");
      });
    }
    document.getElementById("dmn-save").addEventListener("click", function () { save().catch(function () {}); });
    document.getElementById("dmn-validate").addEventListener("click", function () { validate().catch(function () {}); });
  });
})();
