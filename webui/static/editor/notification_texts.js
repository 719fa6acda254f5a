// The editor's notification-texts tab (issue 12 §4): a card per message kind the draft carries, subject and body
// in Chinese and English, a live preview rendered by the server on sample facts, saved into the draft as
// notifications.json; a refusal or a Validate problem is shown beside the field it names.
(function () {
  "use strict";
  var E = window.closeloopEditor;

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("texts-editor");
    if (!box || !E) { return; }
    var t = E.words();
    var w = JSON.parse(document.getElementById("texts-i18n").textContent);
    var context = JSON.parse(document.getElementById("texts-context").textContent);
    var kinds = {};
    context.kinds.forEach(function (k) { kinds[k.name] = k; });
    var list = document.getElementById("texts-list");
    var picker = document.getElementById("texts-add-kind");
    var LANGUAGES = ["zh", "en"];
    var PARTS = ["subject", "body"];
    var previewTimers = {};
    var previewAsked = {};
    var dirty = false;  // changed since the page opened or the last save: Validate saves first only then

    function el(tag, attrs, text) {
      var node = document.createElement(tag);
      Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
      if (text !== undefined) { node.textContent = text; }
      return node;
    }
    function slotId(kind, field) { return "error-" + kind + (field ? "-" + field.replace(/\./g, "-") : ""); }
    function fieldId(kind, language, part) { return "text-" + kind + "-" + language + "-" + part; }

    function card(kind, texts) {
      var known = kinds[kind] || { variables: [], builtin: {} };
      var article = el("article", { "class": "texts-kind", "data-kind": kind, id: "kind-" + kind });
      var header = el("header");
      header.appendChild(el("strong", {}, kind));
      var remove = el("button", { type: "button", "class": "secondary outline texts-remove", "data-kind": kind }, w.remove);
      remove.addEventListener("click", function () { article.remove(); dirty = true; refreshPicker(); });
      header.appendChild(remove);
      article.appendChild(header);
      var vars = el("p", { "class": "texts-variables" });
      vars.appendChild(document.createTextNode(w.variables + " "));
      known.variables.forEach(function (v) { vars.appendChild(el("code", {}, "{{ " + v + " }}")); });
      article.appendChild(vars);
      article.appendChild(el("small", { "class": "error", id: slotId(kind, ""), hidden: "" }));
      var languages = el("div", { "class": "texts-languages" });
      LANGUAGES.forEach(function (language) {
        var text = (texts && texts[language]) || {};
        var set = el("fieldset", { "data-language": language });
        set.appendChild(el("legend", {}, w[language]));
        set.appendChild(el("small", { "class": "error", id: slotId(kind, language), hidden: "" }));
        PARTS.forEach(function (part) {
          var id = fieldId(kind, language, part);
          set.appendChild(el("label", { "for": id }, w[part]));
          var input = part === "subject"
            ? el("input", { id: id, maxlength: "2000", "data-part": part })
            : el("textarea", { id: id, rows: "5", maxlength: "2000", "data-part": part });
          input.value = text[part] || "";
          input.addEventListener("input", function () { dirty = true; schedulePreview(kind, language); });
          set.appendChild(input);
          set.appendChild(el("small", { "class": "error", id: slotId(kind, language + "." + part), hidden: "" }));
        });
        var builtin = known.builtin[language];
        if (builtin) { set.appendChild(el("small", { "class": "texts-builtin" }, w.builtin + " " + builtin.subject)); }
        var preview = el("div", { "class": "texts-preview", id: "preview-" + kind + "-" + language, "aria-live": "polite" });
        preview.appendChild(el("small", {}, w.preview));
        preview.appendChild(el("strong", { "class": "preview-subject" }));
        preview.appendChild(el("p", { "class": "preview-body" }));
        preview.appendChild(el("p", { "class": "error preview-error", hidden: "" }));
        set.appendChild(preview);
        languages.appendChild(set);
      });
      article.appendChild(languages);
      return article;
    }

    function present() {
      return Array.prototype.map.call(list.querySelectorAll(".texts-kind"), function (a) { return a.dataset.kind; });
    }
    function refreshPicker() {
      var shown = present();
      picker.textContent = "";
      context.kinds.forEach(function (k) {
        if (shown.indexOf(k.name) < 0) { picker.appendChild(el("option", { value: k.name }, k.name)); }
      });
      document.getElementById("texts-add").disabled = picker.options.length === 0;
      document.getElementById("texts-none").hidden = shown.length > 0;
    }
    function collect() {
      var texts = {};
      present().forEach(function (kind) {
        texts[kind] = {};
        LANGUAGES.forEach(function (language) {
          texts[kind][language] = {};
          PARTS.forEach(function (part) {
            texts[kind][language][part] = document.getElementById(fieldId(kind, language, part)).value;
          });
        });
      });
      return texts;
    }

    function schedulePreview(kind, language) {
      var key = kind + "/" + language;
      clearTimeout(previewTimers[key]);
      previewTimers[key] = setTimeout(function () { preview(kind, language); }, 300);
    }
    function preview(kind, language) {
      var key = kind + "/" + language;
      var asked = previewAsked[key] = (previewAsked[key] || 0) + 1;
      var subject = document.getElementById(fieldId(kind, language, "subject"));
      var body = document.getElementById(fieldId(kind, language, "body"));
      if (!subject) { return Promise.resolve(); }
      return E.post(box.dataset.preview, { kind: kind, language: language, subject: subject.value, body: body.value })
        .then(function (r) {
          var shown = document.getElementById("preview-" + kind + "-" + language);
          if (!shown || asked !== previewAsked[key]) { return; }
          var problem = shown.querySelector(".preview-error");
          problem.hidden = r.ok;
          problem.textContent = r.ok ? "" : E.refusalText(r.body);
          shown.querySelector(".preview-subject").textContent = r.ok ? r.body.subject : "";
          shown.querySelector(".preview-body").textContent = r.ok ? r.body.body : "";
        })
        .catch(function () { /* offline: saving still checks every text */ });
    }

    function clearProblems() {
      Array.prototype.forEach.call(box.querySelectorAll("small.error"), function (s) { s.hidden = true; s.textContent = ""; });
      Array.prototype.forEach.call(box.querySelectorAll("[aria-invalid]"), function (f) { f.removeAttribute("aria-invalid"); });
      var fileError = document.getElementById("texts-file-error");
      fileError.hidden = true;
      fileError.textContent = "";
    }
    // The nearest place to show a problem of (kind, field): the field, its language, the kind, the file.
    function showProblem(kind, field, message) {
      var parts = field ? field.split(".") : [];
      var slot = null;
      while (!slot && kind) {
        slot = document.getElementById(slotId(kind, parts.join(".")));
        if (!parts.length) { break; }
        parts.pop();
      }
      var input = kind && field ? document.getElementById("text-" + kind + "-" + field.replace(/\./g, "-")) : null;
      if (input) { input.setAttribute("aria-invalid", "true"); }
      if (!slot) { slot = document.getElementById("texts-file-error"); }
      slot.hidden = false;
      slot.textContent = slot.textContent ? slot.textContent + " " + message : message;
    }

    function save() {
      clearProblems();
      E.setStatus(t.saving, "busy");
      return E.post(box.dataset.save, { texts: collect() }).then(function (r) {
        if (!r.ok) {
          var fields = (r.body.error && r.body.error.fields) || [];
          fields.forEach(function (f) { showProblem(f.kind || "", f.part || "", f.message); });
          E.setStatus(t.save_failed + " " + ((r.body.error && r.body.error.message) || ""), "error");
          throw new Error("not saved");
        }
        E.setStatus(t.saved, "ok");
        dirty = false;
        box.dataset.saved = r.body.updated_at;
      });
    }
    function validate() {
      var saved = dirty ? save() : Promise.resolve(clearProblems());
      return saved.then(function () { return E.post(box.dataset.validate, {}); }).then(function (r) {
        var problems = r.body.problems || [];
        var items = document.getElementById("problem-list");
        items.textContent = "";
        problems.forEach(function (p) {
          var item = el("li", { "data-file": p.file || "", "data-element": p.element_id || "" }, p.message);
          items.appendChild(item);
          if (p.file === w.file) { showProblem(p.element_id || "", p.element_name || "", p.message); }
        });
        document.getElementById("problems").hidden = problems.length === 0;
        E.setStatus(problems.length ? t.problems + ": " + problems.length : t.no_problems, problems.length ? "error" : "ok");
        box.dataset.validated = String(problems.length);
      });
    }

    document.getElementById("texts-add").addEventListener("click", function () {
      var kind = picker.value;
      if (!kind || !kinds[kind]) { return; }
      list.appendChild(card(kind, kinds[kind].builtin));
      dirty = true;
      refreshPicker();
      LANGUAGES.forEach(function (language) { preview(kind, language); });
      document.getElementById(fieldId(kind, "zh", "subject")).focus();
    });
    document.getElementById("texts-save").addEventListener("click", function () { save().catch(function () {}); });
    document.getElementById("texts-validate").addEventListener("click", function () { validate().catch(function () {}); });

    Object.keys(context.texts).forEach(function (kind) { list.appendChild(card(kind, context.texts[kind])); });
    refreshPicker();
    Object.keys(context.texts).forEach(function (kind) {
      LANGUAGES.forEach(function (language) { preview(kind, language); });
    });
    (context.problems || []).forEach(function (p) { showProblem(p.kind || "", p.part || "", p.message); });
    box.dataset.ready = "1";
  });
})();
