// The intake form: the device list follows the chosen customer (fetched from /tickets/devices.json),
// No inline script (CSP).
(function () {
  "use strict";
  var form = document.getElementById("intake-form");
  if (!form) return;
  var customer = form.querySelector("select[name=customer_id]");
  var device = document.getElementById("device-choice");

  function option(value, text) {
    var o = document.createElement("option");
    o.value = value;
    o.textContent = text;
    return o;
  }

  function fill(devices, placeholder) {
    var kept = device.value;
    device.replaceChildren(option("", devices.length ? "—" : placeholder));
    devices.forEach(function (d) {
      var o = option(String(d.id), d.label);
      if (String(d.id) === kept) o.selected = true;
      device.appendChild(o);
    });
    device.dataset.loaded = customer.value;
  }

  function load() {
    if (!customer || !device) return;
    if (!customer.value) {
      fill([], device.dataset.empty);
      return;
    }
    var url = device.dataset.src + "?customer_id=" + encodeURIComponent(customer.value);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { devices: [] }; })
      .then(function (body) { fill(body.devices || [], device.dataset.none); });
  }

  if (customer && device) {
    customer.addEventListener("change", load);
    if (customer.value) load();
  }

})();
