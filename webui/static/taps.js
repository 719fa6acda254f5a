// Tapping indicator lamps on the fault photo: each tap adds a small named box in 0..1 coordinates.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  document.querySelectorAll("fieldset.taps").forEach(function (box) {
    var form = box.closest("form"), canvas = box.querySelector(".taps-canvas");
    var hidden = box.querySelector('input[type=hidden]'), taps = [];
    try { taps = JSON.parse(hidden.value || "[]"); } catch (e) { taps = []; }
    var img = document.createElement("img");
    canvas.appendChild(img);
    function draw() {
      canvas.querySelectorAll(".tap").forEach(function (el) { el.remove(); });
      taps.forEach(function (t) {
        var mark = document.createElement("span");
        mark.className = "tap"; mark.textContent = t.name;
        mark.style.left = (100 * t.x) + "%"; mark.style.top = (100 * t.y) + "%";
        mark.style.width = (100 * t.w) + "%"; mark.style.height = (100 * t.h) + "%";
        canvas.appendChild(mark);
      });
      var before = hidden.value;
      hidden.value = JSON.stringify(taps);
      if (hidden.value !== before) { hidden.dispatchEvent(new Event("change", { bubbles: true })); }  // the draft
    }
    function show(file) { img.src = URL.createObjectURL(file); canvas.classList.add("ready"); }
    var source = form.querySelector('input[type=file][data-field="' + box.dataset.on + '"]');
    // After a reload (the draft) or a refused submit the photo is no longer in the page, only its
    // reference: show the stored copy, so the restored taps sit on the picture they were made on.
    function showStored(reference) {
      if (!reference || reference.indexOf("sha256:") !== 0 || !form.dataset.files) { return; }
      img.src = form.dataset.files.replace("SHA256", reference.slice(7)); canvas.classList.add("ready");
    }
    if (source) {
      source.addEventListener("change", function () { if (source.files.length) { show(source.files[0]); } });
      form.addEventListener("uploaded", function (e) { if (e.detail.field === box.dataset.on) { show(e.detail.file); } });
      var stored = form.querySelector('input[data-reference="' + box.dataset.on + '"]');
      if (stored) { showStored(stored.value); }
    }
    img.addEventListener("click", function (e) {
      var r = img.getBoundingClientRect(), size = 0.06;
      var x = Math.max(0, Math.min(1 - size, (e.clientX - r.left) / r.width - size / 2));
      var y = Math.max(0, Math.min(1 - size, (e.clientY - r.top) / r.height - size / 2));
      taps.push({ name: box.dataset.lamp + " " + (taps.length + 1), x: x, y: y, w: size, h: size });
      draw();
    });
    box.querySelector(".taps-clear").addEventListener("click", function () { taps = []; draw(); });
    draw();
  });
});
