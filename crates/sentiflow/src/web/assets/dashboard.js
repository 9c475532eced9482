// sentiflow dashboard: polls /api/snapshot every 2 s and swaps in the panels
// the server rendered (and escaped), then redraws the live charts with uPlot.
// Sets <body data-ready="yes"> after the first successful refresh and counts
// refreshes in data-updates, so that tests (and people) can tell it is live.
"use strict";
(function () {
  var EVERY_MS = 2000;
  var body = document.body;
  var label = body.dataset.label || "";
  var updates = 0;
  var timer = null;
  var charts = {};
  var COLORS = ["#1c7ed6", "#7048e8", "#2f9e44", "#d9480f", "#e67700", "#0ca678", "#ae3ec9", "#495057"];

  function fmt(v, unit) {
    if (v === null || v === undefined || !isFinite(v)) return "n/a";
    if (unit === "s") return v < 1 ? Math.round(v * 1000) + " ms" : v.toFixed(1) + " s";
    return Math.round(v).toLocaleString("en-US") + (unit || "");
  }

  function chart(id, names, columns, unit) {
    var el = document.getElementById(id);
    if (!el || typeof uPlot === "undefined") return;
    if (columns[0].length < 2) return; // keep the server's "n/a" until there is a line to draw
    var key = names.join("|");
    var existing = charts[id];
    if (existing && existing.key !== key) {
      existing.plot.destroy();
      existing = null;
    }
    if (!existing) {
      el.textContent = "";
      var series = [{}];
      names.forEach(function (name, i) {
        series.push({
          label: name,
          stroke: COLORS[i % COLORS.length],
          width: 1.5,
          spanGaps: false,
          value: function (u, v) { return fmt(v, unit); }
        });
      });
      var opts = {
        width: Math.max(el.clientWidth, 200),
        height: 150,
        series: series,
        scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(max || 0, 1) * 1.1]; } } },
        axes: [{}, { size: 60, values: function (u, vals) { return vals.map(function (v) { return fmt(v, unit); }); } }],
        legend: { live: true }
      };
      existing = charts[id] = { key: key, plot: new uPlot(opts, columns, el) };
    } else {
      existing.plot.setData(columns);
    }
  }

  function draw(series) {
    var t = series.t;
    chart("c-throughput", ["produced/s", "processed/s", "written/s"],
      [t, series.produced, series.processed, series.written], "/s");
    var names = series.partitions.map(function (p) { return "partition " + p; });
    if (names.length) {
      chart("c-lag-messages", names, [t].concat(series.lag_messages), "");
      chart("c-lag-seconds", names, [t].concat(series.lag_seconds), "s");
    }
  }

  function apply(snapshot) {
    var fragments = snapshot.fragments || {};
    Object.keys(fragments).forEach(function (id) {
      var el = document.getElementById(id);
      // Server-rendered HTML: every value in it was escaped by the server.
      if (el) el.innerHTML = fragments[id];
    });
    draw(snapshot.series);
    updates += 1;
    body.dataset.updates = String(updates);
    body.dataset.stale = "no";
    body.dataset.ready = "yes";
  }

  function schedule(ms) {
    if (timer) clearTimeout(timer);
    timer = setTimeout(poll, ms);
  }

  function poll() {
    var url = "/api/snapshot" + (label ? "?label=" + encodeURIComponent(label) : "");
    fetch(url, { cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(apply)
      .catch(function () { body.dataset.stale = "yes"; })
      .then(function () { schedule(EVERY_MS); });
  }

  var select = document.getElementById("label-select");
  if (select) {
    select.addEventListener("change", function () {
      label = select.value;
      body.dataset.label = label;
      history.replaceState(null, "", label ? "?label=" + encodeURIComponent(label) : "/");
      schedule(0);
    });
  }
  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (id) {
      var el = document.getElementById(id);
      if (el) charts[id].plot.setSize({ width: Math.max(el.clientWidth, 200), height: 150 });
    });
  });
  poll();
})();
