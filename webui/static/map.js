// The team map: engineers (home, current position, service radius, colour by status) and open tickets'
// sites, from /admin/map.json.  Tiles only when the server names a tile URL; otherwise a plain background
// with markers, circles and a scale, which is all a dispatcher needs to see coverage and gaps.
(function () {
  "use strict";

  function escape(text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function engineerPopup(e, labels) {
    return "<strong>" + escape(e.name) + "</strong> · " + escape(e.group) + "<br>" + escape(e.status_label) +
      "<br>" + escape(labels.radius) + ": " + e.radius_km + " km<br>" + escape(labels.booked) + ": " +
      e.booked_today + " / " + e.daily_capacity + "<br><small>" + e.skill_labels.map(escape).join(", ") + "</small>";
  }

  function draw(el, data) {
    var labels = JSON.parse(el.dataset.labels || "{}");
    var map = L.map(el, { zoomSnap: 0.25 });
    if (data.tiles) {
      L.tileLayer(data.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
    }
    L.control.scale({ metric: true, imperial: false }).addTo(map);
    L.Icon.Default.imagePath = el.dataset.images;
    var bounds = [];
    data.engineers.forEach(function (e) {
      var style = { color: e.colour, weight: 2 };
      L.circle(e.home, { radius: e.radius_km * 1000, color: e.colour, weight: 1, fillOpacity: 0.04 }).addTo(map);
      L.circleMarker(e.home, Object.assign({ radius: 7, fillOpacity: 0 }, style))
        .bindPopup(escape(labels.home) + "<br>" + engineerPopup(e, labels)).addTo(map);
      bounds.push(e.home);
      if (e.current) {
        L.polyline([e.home, e.current], { color: e.colour, weight: 1, dashArray: "4 4" }).addTo(map);
        L.circleMarker(e.current, Object.assign({ radius: 7, fillColor: e.colour, fillOpacity: 0.9 }, style))
          .bindPopup(escape(labels.current) + "<br>" + engineerPopup(e, labels)).addTo(map);
        bounds.push(e.current);
      }
    });
    // One marker per site: a busy site would otherwise stack dozens of identical pins.
    var sites = {};
    data.tickets.forEach(function (t) {
      var key = t.position.join(",");
      (sites[key] = sites[key] || []).push(t);
    });
    Object.keys(sites).forEach(function (key) {
      var tickets = sites[key], first = tickets[0];
      var lines = tickets.slice(0, 10).map(function (t) {
        return '<a href="' + escape(t.url) + '"><strong>' + escape(t.number) + "</strong></a>" +
          (t.engineer ? " · " + escape(labels.engineer) + ": " + escape(t.engineer) : "");
      });
      if (tickets.length > 10) { lines.push("… +" + (tickets.length - 10)); }
      L.marker(first.position, { title: first.site + " (" + tickets.length + ")" })
        .bindPopup(escape(first.customer) + "<br>" + escape(first.site) + "<br>" + lines.join("<br>"))
        .addTo(map);
      bounds.push(first.position);
    });
    if (bounds.length) {
      map.fitBounds(bounds, { padding: [24, 24], maxZoom: 14 });
    } else {
      map.setView([0, 0], 2);
      el.insertAdjacentHTML("afterend", "<p class=\"hint\">" + escape(labels.nothing) + "</p>");
    }
  }

  // A position picked on the map (an engineer's home, a customer's site): a tap or a dragged marker fills
  // the form's two hidden fields; the team and open tickets' sites are drawn faintly for orientation,
  // since without tiles the background is blank.
  function picker(el) {
    var box = el.closest(".position-picker"), form = el.closest("form");
    var lat = form.querySelector('input[name="' + box.dataset.lat + '"]');
    var lon = form.querySelector('input[name="' + box.dataset.lon + '"]');
    var readout = box.querySelector(".picked");
    var map = L.map(el, { zoomSnap: 0.25 }), marker = null;
    L.control.scale({ metric: true, imperial: false }).addTo(map);
    L.Icon.Default.imagePath = el.dataset.images;
    function show() {
      readout.textContent = lat.value && lon.value
        ? Number(lat.value).toFixed(5) + ", " + Number(lon.value).toFixed(5) : readout.dataset.none;
    }
    function place(latlng) {
      lat.value = latlng.lat.toFixed(6); lon.value = latlng.lng.toFixed(6);
      if (!marker) {
        marker = L.marker(latlng, { draggable: true, title: box.querySelector("legend").textContent }).addTo(map);
        marker.on("dragend", function () { place(marker.getLatLng()); });
      } else { marker.setLatLng(latlng); }
      show();
      var error = box.querySelector(".field-error");
      if (error) { error.remove(); }
    }
    map.on("click", function (e) { place(e.latlng); });
    var bounds = [];
    function finish() {
      if (lat.value && lon.value) {
        var here = L.latLng(Number(lat.value), Number(lon.value));
        place(here); map.setView(here, 13);
      } else if (bounds.length) { map.fitBounds(bounds, { padding: [24, 24], maxZoom: 13 }); }
      else { map.setView([30, 120], 5); }
      show();
    }
    fetch(el.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (data.tiles) { L.tileLayer(data.tiles, { maxZoom: 19 }).addTo(map); }
        data.engineers.forEach(function (e) {
          L.circleMarker(e.home, { radius: 4, color: "#607d8b", weight: 1, fillOpacity: 0.3, interactive: false }).addTo(map);
          bounds.push(e.home);
        });
        data.tickets.forEach(function (t) {
          L.circleMarker(t.position, { radius: 3, color: "#b0bec5", weight: 1, interactive: false }).addTo(map);
          bounds.push(t.position);
        });
      })
      .catch(function () { /* orientation only: the picker works without it */ })
      .then(finish);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (typeof L !== "undefined") { document.querySelectorAll(".pick-map").forEach(picker); }
    // Colours arrive as data (the page's policy allows no inline style attributes).
    document.querySelectorAll(".swatch[data-colour]").forEach(function (swatch) {
      swatch.style.background = swatch.dataset.colour;
    });
    var el = document.getElementById("team-map");
    if (!el || typeof L === "undefined") { return; }
    fetch(el.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) { draw(el, data); });
  });
})();
