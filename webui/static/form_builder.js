// The form builder (issue 12 §1): one row per field, reordered by dragging (HTML5 drag and drop, no
// library: a list of at most 60 rows needs nothing more), previewed by the server with the task
// pages' own renderer after every change, saved as JSON into the draft.
(function () {
  "use strict";
  var box = document.getElementById("form-builder");
  if (!box) { return; }
  var data = JSON.parse(document.getElementById("builder-data").textContent);
  var list = document.getElementById("builder-fields");
  var status = document.getElementById("builder-status");
  var words = data.words;
  var dragged = null;
  var timer = null;

  function input(row, key, value, type) {
    var label = document.createElement("label");
    label.textContent = words[key] + " ";
    var el = document.createElement(type === "textarea" ? "textarea" : "input");
    if (type && type !== "textarea") { el.type = type; }
    el.name = key;
    if (type === "checkbox") { el.checked = !!value; } else { el.value = value === null || value === undefined ? "" : value; }
    label.appendChild(el);
    row.appendChild(label);
    el.addEventListener("input", changed);
    el.addEventListener("change", changed);
    return el;
  }

  function select(row, key, options, value) {
    var label = document.createElement("label");
    label.textContent = words[key] + " ";
    var el = document.createElement("select");
    el.name = key;
    options.forEach(function (o) {
      var opt = document.createElement("option");
      opt.value = o[0]; opt.textContent = o[1]; opt.selected = o[0] === value;
      el.appendChild(opt);
    });
    label.appendChild(el);
    row.appendChild(label);
    el.addEventListener("change", changed);
    return el;
  }

  function addRow(f) {
    var row = document.createElement("li");
    row.className = "builder-field";
    // The handle is what is dragged (a press on an input must still select its text).
    var handle = document.createElement("span");
    handle.className = "builder-handle";
    handle.draggable = true;
    handle.title = words.drag;
    handle.setAttribute("aria-label", words.drag);
    handle.textContent = "\u2630";
    row.appendChild(handle);
    input(row, "name", f.name);
    select(row, "kind", data.kinds, f.kind || "text");
    input(row, "title_en", f.title_en);
    input(row, "title_zh", f.title_zh);
    input(row, "help_en", f.help_en);
    input(row, "help_zh", f.help_zh);
    input(row, "required", f.required, "checkbox");
    input(row, "min", f.min, "number");
    input(row, "max", f.max, "number");
    select(row, "source", [["", "—"]].concat(data.sources), f.source || "");
    input(row, "choices", (f.choices || []).map(function (c) { return [c.value, c.en, c.zh].join(" | "); }).join("\n"), "textarea");
    var remove = document.createElement("button");
    remove.type = "button"; remove.className = "secondary outline builder-remove"; remove.textContent = words.remove;
    remove.addEventListener("click", function () { row.remove(); changed(); });
    row.appendChild(remove);
    handle.addEventListener("dragstart", function (e) {
      dragged = row; row.classList.add("dragging");
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", "field");
    });
    handle.addEventListener("dragend", function () { row.classList.remove("dragging"); dragged = null; changed(); });
    row.addEventListener("dragover", function (e) {
      e.preventDefault();
      if (!dragged || dragged === row) { return; }
      var after = e.clientY > row.getBoundingClientRect().top + row.offsetHeight / 2;
      list.insertBefore(dragged, after ? row.nextSibling : row);
    });
    list.appendChild(row);
  }

  function value(row, key) { return row.querySelector("[name=" + key + "]"); }

  function collect() {
    return Array.prototype.map.call(list.children, function (row) {
      var num = function (k) { var v = value(row, k).value; return v === "" ? null : Number(v); };
      var choices = value(row, "choices").value.split("\n").filter(function (l) { return l.trim(); }).map(function (l) {
        var p = l.split("|").map(function (x) { return x.trim(); });
        return { value: p[0] || "", en: p[1] || "", zh: p[2] || "" };
      });
      return {
        name: value(row, "name").value, kind: value(row, "kind").value,
        title_en: value(row, "title_en").value, title_zh: value(row, "title_zh").value,
        help_en: value(row, "help_en").value, help_zh: value(row, "help_zh").value,
        required: value(row, "required").checked, min: num("min"), max: num("max"),
        source: value(row, "source").value, choices: choices
      };
    });
  }

  function post(url) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": box.dataset.csrf },
      body: JSON.stringify({ fields: collect() })
    }).then(function (r) { return r.json(); });
  }

  function show(problems) {
    status.textContent = problems.map(function (p) { return p.message; }).join(" ");
  }

  function refresh() {
    post(data.preview).then(function (answer) {
      if (answer.html !== undefined) {
        // The server's own rendering of the form (the task pages' template), not user-typed HTML.
        document.getElementById("builder-preview").innerHTML = answer.html;
      }
      show(answer.problems || []);
      box.dataset.previewed = String(Number(box.dataset.previewed || 0) + 1);
    });
  }

  function changed() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  }

  document.getElementById("builder-add").addEventListener("click", function () {
    addRow({ kind: "text" });
    changed();
  });
  document.getElementById("builder-save").addEventListener("click", function () {
    post(data.save).then(function (answer) {
      status.textContent = answer.saved ? words.saved : words.failed + " " + answer.problems.map(function (p) { return p.message; }).join(" ");
      box.dataset.saved = answer.saved ? "1" : "0";
    });
  });
  data.fields.forEach(addRow);
  refresh();
}());
