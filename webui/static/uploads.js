// Resumable uploads of photos and videos on bad mobile connections.
// The file goes in 512 KiB chunks at explicit offsets to /api/v1/uploads/<uuid>; after a dropped
// connection the page asks how much arrived and continues; a chunk sent twice is stored once.
// When done, the hidden field holds the file's reference and the file input is emptied, so
// submitting the form sends only the reference; the stored file shows as a thumbnail (a video as its
// poster frame), also after a reload when the reference came back from the task's draft.
// A refused file says why (not a photo, which types are accepted) next to its field.
(function () {
  "use strict";
  var CHUNK = 512 * 1024;

  function csrf() {
    var field = document.querySelector('input[name="csrf_token"]');
    return field ? field.value : "";
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return "10000000-1000-4000-8000-100000000000".replace(/[018]/g, function (c) {
      return (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16);
    });
  }

  function call(method, url, body, contentType) {
    var headers = { "X-CSRFToken": csrf() };
    if (contentType) { headers["Content-Type"] = contentType; }
    return fetch(url, { method: method, body: body, headers: headers, credentials: "same-origin" })
      .then(function (response) {
        return response.json().then(function (json) {
          if (!response.ok) {
            // The field's own problem ("not a photo; JPEG, PNG or HEIC") says more than "invalid input".
            var problem = json.error && json.error.fields && json.error.fields.length ? json.error.fields[0] : null;
            var e = new Error(problem ? problem.message : (json.error ? json.error.message : response.status));
            e.fatal = response.status < 500 && response.status !== 409; e.refused = Boolean(problem);
            throw e;
          }
          return json;
        });
      });
  }

  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  // The stored file as a thumbnail next to its field: photos' and videos' thumbnails are server-made JPEGs.
  function showThumbnail(form, field, reference) {
    var hidden = form.querySelector('input[data-reference="' + field + '"]');
    var box = form.querySelector('.upload-thumb[data-for="' + field + '"]');
    if (!box) {
      box = document.createElement("div");
      box.className = "thumbs upload-thumb"; box.dataset.for = field;
      hidden.insertAdjacentElement("afterend", box);
    }
    box.textContent = "";
    if (!reference || reference.indexOf("sha256:") !== 0 || !form.dataset.files) { return; }
    var hash = reference.slice(7), url = form.dataset.files.replace("SHA256", hash);
    var link = document.createElement("a"), img = document.createElement("img");
    link.href = url; link.target = "_blank";
    img.src = url + (url.indexOf("?") < 0 ? "?" : "&") + "thumb=1";
    img.alt = hidden.dataset.title || field;
    img.dataset.kind = (form.querySelector('input[type=file][data-field="' + field + '"]') || {dataset: {}}).dataset.kind || "";
    link.appendChild(img); box.appendChild(link);
  }

  function fieldError(form, field, text) {
    var wrapper = form.querySelector('.field[data-field="' + field + '"]');
    if (!wrapper) { return; }
    wrapper.querySelectorAll(".field-error").forEach(function (el) { el.remove(); });
    var input = wrapper.querySelector("input[type=file]");
    if (!text) { wrapper.classList.remove("has-error"); if (input) { input.removeAttribute("aria-invalid"); } return; }
    var small = document.createElement("small");
    small.className = "error field-error"; small.setAttribute("role", "alert"); small.textContent = text;
    wrapper.appendChild(small); wrapper.classList.add("has-error");
    if (input) { input.setAttribute("aria-invalid", "true"); }
  }

  function upload(form, input) {
    var file = input.files[0], field = input.dataset.field;
    var base = form.dataset.uploads, id = uuid();
    var bar = form.querySelector('progress[data-for="' + field + '"]');
    var status = form.querySelector('.upload-status[data-for="' + field + '"]');
    var hidden = form.querySelector('input[data-reference="' + field + '"]');
    bar.hidden = false; bar.value = 0; status.textContent = "";
    form.dataset.busy = String(Number(form.dataset.busy || 0) + 1);
    var begin = JSON.stringify({ upload_id: id, task_id: form.dataset.task, field: field, filename: file.name,
                                 content_type: file.type || null, total_size: file.size });
    var attempt = 0;
    function step(offset) {
      if (offset >= file.size) { return call("POST", base + "/" + id + "/finish"); }
      return call("PUT", base + "/" + id + "?offset=" + offset, file.slice(offset, offset + CHUNK),
                  "application/octet-stream")
        .then(function (state) { attempt = 0; bar.value = 100 * state.received / file.size; return step(state.received); });
    }
    function resume(error) {
      if (error.fatal || attempt >= 8) { throw error; }
      attempt += 1;
      status.textContent = status.dataset.retrying;
      return sleep(Math.min(30000, 500 * Math.pow(2, attempt)))
        .then(function () { return call("GET", base + "/" + id); })
        .then(function (state) { status.textContent = ""; return step(state.received); })
        .catch(resume);
    }
    return call("POST", base, begin, "application/json")
      .then(function () { return step(0).catch(resume); })
      .then(function (done) {
        hidden.value = done.reference; input.value = ""; bar.value = 100; status.textContent = status.dataset.done;
        fieldError(form, field, "");
        showThumbnail(form, field, done.reference);
        input.dispatchEvent(new CustomEvent("uploaded", { bubbles: true,
          detail: { field: field, file: file, reference: done.reference } }));
      })
      .catch(function (error) {
        bar.hidden = true; input.value = "";
        if (error.refused) { status.textContent = ""; fieldError(form, field, error.message); }
        else { status.textContent = status.dataset.failed + " " + error.message; }
      })
      .finally(function () { form.dataset.busy = String(Number(form.dataset.busy) - 1); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-uploads]").forEach(function (form) {
      form.querySelectorAll("input[data-reference]").forEach(function (hidden) {
        if (hidden.value) { showThumbnail(form, hidden.dataset.reference, hidden.value); }
      });
      form.querySelectorAll("input[type=file][data-resumable]").forEach(function (input) {
        input.addEventListener("change", function () { if (input.files.length) { upload(form, input); } });
      });
      form.addEventListener("submit", function (event) {
        if (Number(form.dataset.busy || 0) > 0) { event.preventDefault(); }
      });
    });
  });
})();
