// The customer's signature pad (issue 11 §2): draw with a finger or the mouse, the drawing is sent as a
// PNG data URL in the form's hidden "signature" field.  The server checks it (empty, size, format); this
// script only fits the pad to the phone's width and keeps the drawing sharp on high-density screens.
(function () {
  "use strict";
  function start() {
    var canvas = document.getElementById("signature-pad");
    var form = document.getElementById("signature-form");
    if (!canvas || !form || typeof SignaturePad === "undefined") return;
    var pad = new SignaturePad(canvas, { minWidth: 1, maxWidth: 3, penColor: "#0d1b4c" });
    var box = document.getElementById("signature-box");
    function fit() {
      var ratio = Math.max(window.devicePixelRatio || 1, 1);
      var width = Math.max(Math.min(box.clientWidth, 640), 200);
      var height = Math.round(width * 0.5);
      var strokes = pad.toData();
      canvas.style.width = width + "px";
      canvas.style.height = height + "px";
      canvas.style.border = "1px dashed #7a8699";
      canvas.style.borderRadius = "6px";
      canvas.width = width * ratio;
      canvas.height = height * ratio;
      canvas.getContext("2d").scale(ratio, ratio);
      pad.clear();
      pad.fromData(strokes);
    }
    window.addEventListener("resize", fit);
    fit();
    document.getElementById("signature-clear").addEventListener("click", function () {
      pad.clear();
    });
    form.addEventListener("submit", function () {
      // An empty pad sends nothing: the server answers "please sign" in the customer's language.
      document.getElementById("signature-data").value = pad.isEmpty() ? "" : pad.toDataURL("image/png");
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
