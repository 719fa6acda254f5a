// Signature and audio fields of task forms (x-widget "signature" / "audio", webui/templates/macros/form.html).
// A signature is drawn on a pad (npm signature_pad, vendored); on submit the drawing is put into the
// field's hidden file input as a PNG file, so it is uploaded and checked like any other file.  An empty
// pad sends no file: a required signature is then refused by the server, in the user's language.
// A stored answer (a sha256: reference) is shown as the signature's image or as an audio player.
(function () {
  "use strict";

  function pngFile(dataUrl, name) {
    var bytes = atob(dataUrl.split(",")[1]), buffer = new Uint8Array(bytes.length);
    for (var i = 0; i < bytes.length; i += 1) { buffer[i] = bytes.charCodeAt(i); }
    return new File([buffer], name + ".png", { type: "image/png" });
  }

  function storedUrl(form, reference) {
    if (!reference || reference.indexOf("sha256:") !== 0 || !form || !form.dataset.files) { return null; }
    return form.dataset.files.replace("SHA256", reference.slice(7));
  }

  function startPad(fieldset) {
    var canvas = fieldset.querySelector("canvas.signature-canvas");
    var file = fieldset.querySelector("input.signature-file");
    var form = fieldset.closest("form");
    if (!canvas || !file || typeof SignaturePad === "undefined") { return; }
    var pad = new SignaturePad(canvas, { minWidth: 1, maxWidth: 3, penColor: "#0d1b4c" });
    function fit() {  // sharp on high-density screens, as wide as the form allows
      var ratio = Math.max(window.devicePixelRatio || 1, 1), strokes = pad.toData();
      var width = Math.max(Math.min(fieldset.clientWidth || 320, 640), 200), height = Math.round(width * 0.4);
      canvas.style.width = width + "px"; canvas.style.height = height + "px";
      canvas.style.border = "1px dashed #7a8699"; canvas.style.borderRadius = "6px"; canvas.style.touchAction = "none";
      canvas.width = width * ratio; canvas.height = height * ratio;
      canvas.getContext("2d").scale(ratio, ratio);
      pad.clear(); pad.fromData(strokes);
    }
    window.addEventListener("resize", fit);
    fit();
    fieldset.querySelector(".signature-clear").addEventListener("click", function () { pad.clear(); });
    if (form) {
      form.addEventListener("submit", function () {
        var transfer = new DataTransfer();
        if (!pad.isEmpty()) { transfer.items.add(pngFile(pad.toDataURL("image/png"), fieldset.dataset.name)); }
        file.files = transfer.files;
      });
    }
  }

  function start() {
    document.querySelectorAll("fieldset.signature-field").forEach(startPad);
    document.querySelectorAll("img.stored-signature, audio.stored-audio").forEach(function (el) {
      var url = storedUrl(el.closest("form"), el.dataset.reference);
      if (url) { el.src = url; }
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
