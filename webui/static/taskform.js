// A staff task form on a phone: the draft is saved on the server as the form changes (typed text,
// choices, the GPS fix, lamp taps, references of stored photos), so a reload or a refused submit loses
// nothing; the page is rendered from the draft when opened again.  A field's error goes away as soon
// as the field is changed, instead of staying until the next submit.
(function () {
  "use strict";
  var DELAY_MS = 400;

  function draftBody(form) {
    var body = new FormData(form);
    Array.from(body.keys()).forEach(function (name) {
      if (body.getAll(name).some(function (v) { return typeof v !== "string"; })) {
        // A file input's bytes go through the resumable upload; only its hidden reference is kept.
        var strings = body.getAll(name).filter(function (v) { return typeof v === "string"; });
        body.delete(name);
        strings.forEach(function (v) { body.append(name, v); });
      }
    });
    return body;
  }

  function autosave(form) {
    var timer = null, pending = Promise.resolve();
    function save() {
      timer = null;
      form.dataset.draft_state = "saving";
      pending = fetch(form.dataset.draft, {
        method: "POST", body: draftBody(form), credentials: "same-origin",
        headers: { Accept: "application/json" }
      }).then(function (response) {
        form.dataset.draft_state = response.ok ? "saved" : "failed";
      }).catch(function () { form.dataset.draft_state = "failed"; });
      return pending;
    }
    var submitted = false;
    function later() {
      if (submitted) { return; }  // the submit carries the form; a draft saved after it finds the task done (409)
      form.dataset.draft_state = "dirty";
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(save, DELAY_MS);
    }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    form.addEventListener("uploaded", later);
    form.addEventListener("submit", function () {
      submitted = true;
      if (timer) { clearTimeout(timer); timer = null; }
    });
  }

  function clearError(event) {
    var wrapper = event.target.closest && event.target.closest(".field.has-error");
    if (!wrapper || event.target.type === "file") { return; }  // a file's error goes when its upload succeeds
    wrapper.classList.remove("has-error");
    wrapper.querySelectorAll(".field-error").forEach(function (el) { el.remove(); });
    wrapper.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
  }

  function showRestoredFix(form) {
    form.querySelectorAll("fieldset.geolocation").forEach(function (box) {
      var name = box.dataset.name, status = box.querySelector(".geo-status");
      var lat = box.querySelector('[name="' + name + '.lat"]'), lon = box.querySelector('[name="' + name + '.lon"]');
      var accuracy = box.querySelector('[name="' + name + '.accuracy"]');
      if (status && lat && lon && lat.value && lon.value && !status.textContent.trim()) {
        status.textContent = Number(lat.value).toFixed(5) + ", " + Number(lon.value).toFixed(5) +
          (accuracy && accuracy.value ? " (±" + accuracy.value + " m)" : "");
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("task-form");
    if (!form) { return; }
    form.addEventListener("input", clearError);
    form.addEventListener("change", clearError);
    showRestoredFix(form);
    if (form.dataset.draft) { autosave(form); }
  });
})();
