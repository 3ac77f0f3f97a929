/* The pNEN dashboard: completes the SMART launch (fhirclient), asks the service for the
   patient's facts and recommendations, and draws them. No clinical logic here: everything shown
   (grades, bands, marker scales, recommendations) comes computed from POST api/dashboard. */
(function () {
  "use strict";
  // The page's wording, in the language the service chose for this browser (Accept-Language).
  var TEXT = JSON.parse(document.getElementById("ui-text").textContent);
  function t(key, values) {
    return TEXT[key].replace(/\{(\w+)\}/g, function (whole, name) {
      return values && values[name] !== undefined ? String(values[name]) : whole;
    });
  }
  var LANES = [
    ["diagnosis", t("lane_diagnosis")],
    ["biopsy", t("lane_biopsy")],
    ["imaging", t("lane_imaging")],
    ["procedure", t("lane_procedure")],
  ];
  var COLOURS = ["#1a5fb4", "#c64600", "#26a269", "#813d9c", "#986a44", "#e01b24"];
  var DAY = 86400000;
  var state = { charts: { timeline: null, ki67: null, markers: [] }, data: null };
  window.pnenDashboard = state;

  function ms(day) { return Date.parse(day + "T00:00:00Z"); }
  function dayOf(value) { return new Date(value).toISOString().slice(0, 10); }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }
  function table(caption, head, rows) {
    var thead = el("thead", {}, [el("tr", {}, head.map(function (h) { return el("th", { scope: "col", text: h }); }))]);
    var tbody = el("tbody", {}, rows.map(function (r) {
      return el("tr", {}, r.map(function (c) { return c instanceof Node ? el("td", {}, [c]) : el("td", { text: c === null || c === undefined ? "—" : String(c) }); }));
    }));
    return el("table", {}, [el("caption", { text: caption }), thead, tbody]);
  }
  function dateAxis() {
    return { type: "linear", ticks: { callback: function (v) { return dayOf(v); }, maxTicksLimit: 8 } };
  }
  function status(text, isError) {
    var node = document.getElementById("status");
    node.textContent = text;
    node.className = isError ? "error" : "";
  }

  function drawTimeline(data) {
    var therapies = data.therapies.filter(function (th) { return th.start; });
    var labels = LANES.map(function (l) { return l[1]; }).concat(therapies.map(function (th) { return th.name; }));
    var datasets = LANES.map(function (lane, i) {
      return {
        type: "scatter", label: lane[1], backgroundColor: COLOURS[i], pointRadius: 5,
        data: data.timeline.filter(function (e) { return e.lane === lane[0] && e.date; })
          .map(function (e) { return { x: ms(e.date), y: i, text: e.label, ref: e.ref }; }),
      };
    });
    therapies.forEach(function (therapy, j) {
      var row = LANES.length + j, colour = COLOURS[(j + 4) % COLOURS.length];
      var known = therapy.end !== null && therapy.end !== undefined;
      // A therapy whose end is not recorded is drawn at its start only, never as a guessed bar.
      var points = [{ x: ms(therapy.start), y: row, text: therapy.label }];
      if (known) { points.push({ x: ms(therapy.end), y: row, text: therapy.label }); }
      datasets.push({
        type: "line", label: therapy.endKnown ? therapy.name : t("end_not_recorded", { name: therapy.name }), borderColor: colour,
        backgroundColor: colour, borderWidth: 10, pointRadius: known ? 0 : 7, pointStyle: "rectRot",
        showLine: known, data: points,
      });
    });
    state.charts.timeline = new Chart(document.getElementById("timeline-chart"), {
      data: { datasets: datasets },
      options: {
        maintainAspectRatio: false, animation: false,
        scales: {
          x: dateAxis(),
          y: { type: "linear", reverse: true, min: -0.5, max: labels.length - 0.5,
               afterBuildTicks: function (axis) { axis.ticks = labels.map(function (_, i) { return { value: i }; }); },
               ticks: { autoSkip: false, callback: function (v) { return labels[v] || ""; } } },
        },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (c) { return dayOf(c.raw.x) + ": " + c.raw.text; } } },
        },
      },
    });
    var rows = data.timeline.map(function (e) {
      var what = LANES.filter(function (l) { return l[0] === e.lane; }).map(function (l) { return l[1]; })[0] || t("lane_therapy");
      return [e.date || t("undated"), e.end ? t("until", { date: e.end }) : "", what, e.label, e.ref];
    });
    document.getElementById("timeline-table").appendChild(
      table(t("timeline_events"), [t("col_date"), t("col_end"), t("col_kind"), t("col_event"), t("col_source")], rows));
  }

  function drawKi67(ki67) {
    var sites = Object.keys(ki67.series);
    var xs = [];
    sites.forEach(function (s) { ki67.series[s].forEach(function (p) { xs.push(ms(p.date)); }); });
    var datasets = sites.map(function (site, i) {
      return {
        type: "line", label: t("ki67_site", { site: site }), borderColor: COLOURS[i], backgroundColor: COLOURS[i], pointRadius: 5,
        data: ki67.series[site].map(function (p) { return { x: ms(p.date), y: p.value, text: p.display, ref: p.ref }; }),
      };
    });
    if (xs.length) {
      var lo = Math.min.apply(null, xs) - 30 * DAY, hi = Math.max.apply(null, xs) + 30 * DAY;
      ki67.bands.forEach(function (band) {
        datasets.push({
          type: "line", label: band.label, borderColor: "#777", borderDash: [6, 4], borderWidth: 1,
          pointRadius: 0, data: [{ x: lo, y: band.value }, { x: hi, y: band.value }], band: true,
        });
      });
    }
    state.charts.ki67 = new Chart(document.getElementById("ki67-chart"), {
      data: { datasets: datasets },
      options: {
        maintainAspectRatio: false, animation: false,
        scales: { x: dateAxis(), y: { type: "linear", min: 0, suggestedMax: 25, title: { display: true, text: t("ki67_axis") } } },
        plugins: { tooltip: { callbacks: { label: function (c) { return c.dataset.label + ": " + (c.raw.text || c.raw.y + " %"); } } } },
      },
    });
    var rows = [];
    sites.forEach(function (s) { ki67.series[s].forEach(function (p) { rows.push([p.date, s, p.display, p.ref]); }); });
    ki67.undated.forEach(function (p) { rows.push([t("undated"), p.site, p.display, p.ref]); });
    var bands = ki67.bands.map(function (b) { return b.label; }).join("; ");
    document.getElementById("ki67-table").appendChild(table(t("ki67_results", { bands: bands }), [t("col_date"), t("col_site"), "Ki-67", t("col_source")], rows));
  }

  var therapyShading = {
    id: "therapyPeriods",
    beforeDatasetsDraw: function (chart, args, options) {
      var x = chart.scales.x, area = chart.chartArea, ctx = chart.ctx;
      ctx.save();
      (options.periods || []).forEach(function (p, i) {
        var left = Math.max(x.getPixelForValue(p.start), area.left);
        var right = Math.min(x.getPixelForValue(p.end), area.right);
        if (right <= left) { return; }
        ctx.fillStyle = i % 2 ? "rgba(38,162,105,0.12)" : "rgba(26,95,180,0.12)";
        ctx.fillRect(left, area.top, right - left, area.bottom - area.top);
        ctx.fillStyle = "#333";
        ctx.font = "11px system-ui, sans-serif";
        ctx.fillText(p.name, left + 3, area.top + 12 + 12 * (i % 3));
      });
      ctx.restore();
    },
  };

  function drawMarkers(data) {
    var holder = document.getElementById("marker-charts");
    var periods = data.therapies.filter(function (th) { return th.start; }).map(function (th) {
      return { name: th.name, start: ms(th.start), end: th.end ? ms(th.end) : ms(th.start) + DAY };
    });
    if (!data.markers.length) { holder.appendChild(el("p", { text: t("no_markers") })); }
    data.markers.forEach(function (series, i) {
      var title = t("marker_title", { name: series.name, unit: series.unit });
      var id = "marker-chart-" + i;
      var canvas = el("canvas", { id: id, role: "img", "aria-label": t("marker_chart", { title: title }) });
      var rows = series.points.map(function (p) { return [p.date, p.display, p.ref]; });
      holder.appendChild(el("figure", {}, [
        el("figcaption", { text: title }),
        el("div", { "class": "chart" }, [canvas]),
        el("details", {}, [el("summary", { text: t("as_table", { title: title }) }), table(title, [t("col_date"), t("col_result"), t("col_source")], rows)]),
      ]));
      state.charts.markers.push(new Chart(canvas, {
        type: "line",
        data: { datasets: [{
          label: title, borderColor: COLOURS[i % COLOURS.length], backgroundColor: COLOURS[i % COLOURS.length], pointRadius: 3,
          data: series.points.map(function (p) { return { x: ms(p.date), y: p.value, text: p.display, ref: p.ref }; }),
        }] },
        options: {
          maintainAspectRatio: false, animation: false,
          scales: { x: dateAxis(), y: { type: "linear", title: { display: true, text: series.unit } } },
          plugins: {
            therapyPeriods: { periods: periods },
            tooltip: { callbacks: { label: function (c) { return c.raw.text; } } },
          },
        },
        plugins: [therapyShading],
      }));
    });
  }

  function list(title, items) {
    if (!items || !items.length) { return null; }
    return el("div", {}, [el("h4", { text: title }), el("ul", {}, items.map(function (item) { return el("li", { text: item }); }))]);
  }

  function drawRecommendations(recs) {
    var holder = document.getElementById("recommendation-list");
    if (!recs.length) {
      holder.appendChild(el("p", { text: t("no_recommendations") }));
      return;
    }
    recs.forEach(function (rec, i) {
      var head = el("h3", { id: "rec-" + i }, [el("span", { "class": "badge", text: t("indicator_" + rec.indicator) }), document.createTextNode(" " + rec.summary)]);
      var criteria = rec.criteria.length ? el("div", {}, [
        el("h4", { text: t("criteria") }),
        table(t("criteria_of", { title: rec.title }), [t("col_criterion"), t("col_status"), t("col_based_on")], rec.criteria.map(function (c) {
          return [c.name, el("span", { "class": "status-" + c.status.replace(" ", "-"), text: c.statusText }), c.basis || "—"];
        })),
      ]) : null;
      var source = el("p", { "class": "note" }, [document.createTextNode(t("source_rule", { citation: rec.citation }))]);
      source.appendChild(rec.url ? el("a", { href: rec.url, text: rec.rule }) : el("code", { text: rec.rule }));
      var body = el("div", {}, [
        el("p", { text: rec.advice }),
        criteria,
        list(t("why"), rec.evidence),
        list(t("missing"), rec.missing),
        list(t("waiting"), rec.waiting),
        list(t("local_policy"), rec.localPolicy),
        list(t("suggestions"), rec.suggestions),
        source,
      ]);
      var details = el("details", { open: "" }, [el("summary", { text: t("details", { title: rec.title }) }), body]);
      holder.appendChild(el("article", { "class": "rec " + rec.indicator, "aria-labelledby": "rec-" + i, "data-rule": rec.rule }, [head, details]));
    });
  }

  function drawIssues(issues) {
    var holder = document.getElementById("issue-list");
    if (!issues.length) { holder.appendChild(el("p", { text: t("no_issues") })); return; }
    holder.appendChild(el("ul", {}, issues.map(function (i) {
      return el("li", { text: i.reference + " (" + i.prefetchKey + "): " + i.problem });
    })));
  }

  function render(data) {
    state.data = data;
    document.getElementById("patient").textContent = t("as_of", { patient: data.patient, date: data.today });
    drawTimeline(data);
    drawKi67(data.ki67);
    drawMarkers(data);
    drawRecommendations(data.recommendations);
    drawIssues(data.dataIssues);
    status(t("recommendations", { n: data.recommendations.length }), false);
    document.body.setAttribute("data-ready", "true");
  }

  document.getElementById("print").addEventListener("click", function () { window.print(); });
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });

  FHIR.oauth2.ready()
    .then(function (client) {
      return fetch("api/dashboard", {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: "Bearer " + client.state.tokenResponse.access_token },
        body: JSON.stringify({ fhirServer: client.state.serverUrl, patientId: client.patient.id }),
      });
    })
    .then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) { throw new Error(body.error || ("HTTP " + response.status)); }
        return body;
      });
    })
    .then(render)
    .catch(function (error) {
      status(t("load_failed", { reason: error.message }), true);
      document.body.setAttribute("data-ready", "error");
    });
})();
