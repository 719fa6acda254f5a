// Small progressive enhancements; every form works without them except browser geolocation.
(function () {
  "use strict";

  function pad(n) { return String(n).padStart(2, "0"); }

  function tickCountdowns() {
    document.querySelectorAll(".countdown[data-due]").forEach(function (el) {
      var left = Math.round((Date.parse(el.dataset.due) - Date.now()) / 1000);
      var abs = Math.abs(left);
      var text = Math.floor(abs / 3600) + ":" + pad(Math.floor(abs % 3600 / 60)) + ":" + pad(abs % 60);
      el.textContent = left < 0 ? el.dataset.overdue + " " + text : text + " " + el.dataset.left;
      el.classList.toggle("overdue", left < 0);
    });
  }

  function initGeolocation() {
    document.querySelectorAll("fieldset.geolocation").forEach(function (box) {
      var name = box.dataset.name, status = box.querySelector(".geo-status");
      box.querySelector("button.locate").addEventListener("click", function () {
        if (!navigator.geolocation) { status.textContent = status.dataset.denied; return; }
        status.textContent = status.dataset.waiting;
        navigator.geolocation.getCurrentPosition(function (pos) {
          box.querySelector('[name="' + name + '.lat"]').value = pos.coords.latitude;
          box.querySelector('[name="' + name + '.lon"]').value = pos.coords.longitude;
          box.querySelector('[name="' + name + '.accuracy"]').value = Math.round(pos.coords.accuracy);
          status.textContent = pos.coords.latitude.toFixed(5) + ", " + pos.coords.longitude.toFixed(5) +
            " (±" + Math.round(pos.coords.accuracy) + " m)";
          box.dispatchEvent(new Event("change", { bubbles: true }));  // a task form's draft keeps the fix
          if (box.dataset.autosubmit !== undefined) { box.closest("form").submit(); }  // "share my location"
        }, function () { status.textContent = status.dataset.denied; },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
      });
    });
  }

  function initCounters() {
    document.querySelectorAll(".counter[data-for]").forEach(function (counter) {
      var input = document.querySelector('[name="' + counter.dataset.for + '"]');
      if (!input) { return; }
      var limit = Number(counter.dataset.limit);
      function update() {
        var n = Array.from(input.value.normalize("NFC").trim()).length;  // one per character, CJK included
        counter.textContent = n + " / " + limit;
        counter.classList.toggle("over", n > limit);
      }
      input.addEventListener("input", update);
      update();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    tickCountdowns();
    setInterval(tickCountdowns, 1000);
    initGeolocation();
    initCounters();
    document.querySelectorAll("input.select-on-click").forEach(function (input) {
      input.addEventListener("click", function () { input.select(); });  // copy the whole link at once
    });
  });
})();
