// The process editor page: the bpmn-js modeler with Closeloop's properties panel (the bundle in
// vendor/editor), saving the draft, validating it (each problem listed and its element marked on the
// canvas) and deploying it with a change note (issue 12 §1).
(function () {
  "use strict";
  var E = window.closeloopEditor;

  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  ready(function () {
    var box = document.getElementById("editor");
    if (!box || !window.CloseloopModeler) { return; }
    var t = E.words();
    var context = JSON.parse(document.getElementById("editor-context").textContent);
    var checked = {};
    function check(text) {
      if (!checked[text]) {
        checked[text] = E.post(box.dataset.check, { text: text }).then(function (r) {
          return r.ok ? r.body : { ok: false, reason: E.refusalText(r.body) };
        });
      }
      return checked[text];
    }
    var modeler;
    var marked = [];
    var dirty = false;

    function clearMarks() {
      var canvas = modeler.get("canvas");
      marked.forEach(function (id) { canvas.removeMarker(id, "cl-problem"); });
      marked = [];
    }

    function showProblems(problems) {
      var section = document.getElementById("problems");
      var list = document.getElementById("problem-list");
      var registry = modeler.get("elementRegistry");
      var canvas = modeler.get("canvas");
      clearMarks();
      list.textContent = "";
      section.hidden = problems.length === 0;
      problems.forEach(function (p) {
        var item = document.createElement("li");
        item.dataset.element = p.element_id || "";
        item.textContent = p.message;
        if (p.element_id && registry.get(p.element_id)) {
          canvas.addMarker(p.element_id, "cl-problem");
          marked.push(p.element_id);
          item.classList.add("on-canvas");
          item.tabIndex = 0;
          item.addEventListener("click", function () {
            modeler.get("selection").select(registry.get(p.element_id));
            canvas.scrollToElement(registry.get(p.element_id));
          });
        }
        list.appendChild(item);
      });
      box.dataset.problems = String(problems.length);
      box.dataset.marked = marked.join(" ");
    }

    function save() {
      E.setStatus(t.saving, "busy");
      return modeler.saveXML({ format: true }).then(function (result) {
        var files = {};
        files[box.dataset.file] = result.xml;
        return E.post(box.dataset.save, { files: files });
      }).then(function (r) {
        if (!r.ok) { E.setStatus(t.save_failed + " " + E.refusalText(r.body), "error"); throw new Error("not saved"); }
        dirty = false;
        box.dataset.saved = r.body.updated_at;
        E.setStatus(t.saved, "ok");
        return r;
      });
    }

    function validate() {
      return save().then(function () {
        E.setStatus(t.validating, "busy");
        return E.post(box.dataset.validate, {});
      }).then(function (r) {
        var problems = r.body.problems || [];
        showProblems(problems);
        E.setStatus(problems.length ? t.problems + ": " + problems.length : t.no_problems, problems.length ? "error" : "ok");
        box.dataset.validated = "1";
      });
    }

    function deploy(event) {
      event.preventDefault();
      var note = document.getElementById("change-note");
      var error = document.getElementById("change-note-error");
      error.hidden = true;
      note.removeAttribute("aria-invalid");
      save().then(function () {
        E.setStatus(t.deploying, "busy");
        return E.post(box.dataset.deploy, { note: note.value });
      }).then(function (r) {
        if (r.ok) {
          E.setStatus(t.deployed, "ok");
          window.location.assign(r.body.list);
          return;
        }
        if (r.body.problems) { showProblems(r.body.problems); }
        var noteProblem = (r.body.error.fields || []).filter(function (f) { return f.field === "note"; })[0];
        if (noteProblem) {
          error.textContent = noteProblem.message;
          error.hidden = false;
          note.setAttribute("aria-invalid", "true");
        }
        E.setStatus(E.refusalText(r.body), "error");
        box.dataset.refused = r.body.error.code;
      }).catch(function () { /* the status line says why */ });
    }

    fetch(box.dataset.vocabulary, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (vocabulary) {
        modeler = window.CloseloopModeler.create(document.getElementById("canvas"), document.getElementById("properties"), {
          vocabulary: vocabulary, check: check, t: t, lang: document.documentElement.lang,
          forms: context.forms, decisions: context.decisions, lanes: context.lanes
        });
        window.closeloopModeler = modeler;  // for the browser tests and the console
        return fetch(box.dataset.source, { credentials: "same-origin" }).then(function (r) { return r.text(); });
      })
      .then(function (xml) { return modeler.importXML(xml); })
      .then(function () {
        modeler.get("canvas").zoom("fit-viewport", "auto");
        modeler.on("commandStack.changed", function () { dirty = true; E.setStatus(t.unsaved, "busy"); });
        box.dataset.ready = "1";
      })
      .catch(function (err) { E.setStatus(t.load_failed + " " + err.message, "error"); });

    document.getElementById("editor-save").addEventListener("click", function () { save().catch(function () {}); });
    document.getElementById("editor-validate").addEventListener("click", function () { validate().catch(function () {}); });
    document.getElementById("deploy-form").addEventListener("submit", deploy);
    window.addEventListener("beforeunload", function (event) { if (dirty) { event.preventDefault(); } });
  });
})();
