/* forensics timeline: draws the lanes and charts from the page's JSON block as inline SVG.
   Log text only ever reaches the page through textContent and attribute setters, never as markup. */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("page-data").textContent);
  var NS = "http://www.w3.org/2000/svg";
  var LEFT = 176, RIGHT = 26;
  var FULL = [D.t0, D.t1];
  var view = FULL.slice();
  var clipSeq = 0;
  var LANE_NAMES = { "deploys": "deploys", "app": "app", "kernel": "kernel", "systemd": "systemd",
                     "pm2/supervisor": "PM2 / supervisor", "nginx": "nginx" };
  var MARK_NAMES = [["deploy", "deploy"], ["kill", "OOM kill / memory death"], ["exit", "exit / failure"],
                    ["gaveup", "gave up"], ["restart", "restart"], ["start", "start"], ["stop", "stop"],
                    ["error", "error"]];

  /* ---------------------------------------------------------------- helpers */
  function el(tag, attrs, parent) {
    var e = document.createElementNS(NS, tag);
    if (attrs) Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(e);
    return e;
  }
  function text(parent, x, y, s, cls, anchor) {
    var t = el("text", { x: x, y: y }, parent);
    if (cls) t.setAttribute("class", cls);
    if (anchor) t.setAttribute("text-anchor", anchor);
    t.textContent = s;
    return t;
  }
  function svgFor(box, w, h) {
    var s = el("svg", { viewBox: "0 0 " + w + " " + h, width: w, height: h, role: "img" });
    s.style.width = "100%";
    box.appendChild(s);
    return s;
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function cut(s, n) { return s.length > n ? s.slice(0, n - 1) + "…" : s; }
  function widthOf(box) { return Math.max(640, Math.round(box.clientWidth || 1200)); }
  function sx(w) {
    var a = view[0], span = Math.max(1, view[1] - view[0]), inner = w - LEFT - RIGHT;
    return function (t) { return LEFT + (t - a) / span * inner; };
  }
  function inView(t) { return t >= view[0] && t <= view[1]; }
  function withView(v, fn) {
    var saved = view;
    view = v;
    try { fn(); } finally { view = saved; }
  }
  function clip(svg, x, y, w, h) {
    var id = "clip" + (++clipSeq);
    var cp = el("clipPath", { id: id }, el("defs", null, svg));
    el("rect", { x: x, y: y, width: Math.max(0, w), height: Math.max(0, h) }, cp);
    return "url(#" + id + ")";
  }
  function fmtBytes(n) {
    if (n === null || n === undefined) return "?";
    var u = [["GiB", 1073741824], ["MiB", 1048576], ["KiB", 1024]];
    for (var i = 0; i < u.length; i++) if (Math.abs(n) >= u[i][1]) return (n / u[i][1]).toFixed(1) + " " + u[i][0];
    return n + " B";
  }
  function fmtUTC(t, withDate) {
    var d = new Date(t);
    var s = pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds());
    if (withDate) s = d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " + s;
    return s;
  }
  function fmtSpan(ms) {
    var s = ms / 1000;
    if (s < 120) return Math.round(s) + " s";
    if (s < 7200) return Math.round(s / 60) + " min";
    if (s < 172800) return Math.round(s / 3600) + " h";
    return Math.round(s / 86400) + " d";
  }
  function perLabel(step) {
    return step === 6e4 ? "minute" : step === 36e5 ? "hour" : step === 864e5 ? "day" : fmtSpan(step);
  }

  /* merge sorted [t, n1, n2, ...] buckets of width step into bins the screen can show (at least minPx wide) */
  var LADDER = [1e3, 5e3, 1e4, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 216e5, 432e5, 864e5, 6048e5];
  function rebin(rows, step, w, minPx) {
    var want = (view[1] - view[0]) / Math.max(1, (w - LEFT - RIGHT) / minPx), bin = Math.max(step, LADDER[LADDER.length - 1]);
    for (var i = 0; i < LADDER.length; i++) if (LADDER[i] >= step && LADDER[i] >= want) { bin = LADDER[i]; break; }
    var out = [], cur = null;
    rows.forEach(function (r) {
      if (r[0] + step < view[0] || r[0] > view[1]) return;
      var b = Math.floor(r[0] / bin) * bin;
      if (!cur || cur[0] !== b) { cur = [b].concat(r.slice(1).map(function () { return 0; })); out.push(cur); }
      for (var k = 1; k < r.length; k++) cur[k] += r[k];
    });
    return { rows: out, step: bin };
  }

  /* one zone for the second axis line: the hosts' zone where they agree and it is not UTC */
  var localFmt = null, localName = null;
  (function () {
    var zs = Object.keys(D.zones).map(function (h) { return D.zones[h]; });
    var uniq = zs.filter(function (z, i) { return zs.indexOf(z) === i; });
    if (uniq.length !== 1 || /^(UTC|Etc\/UTC|GMT|Z)$/i.test(uniq[0])) return;
    try {
      localFmt = new Intl.DateTimeFormat("en-GB", { timeZone: uniq[0], hour: "2-digit", minute: "2-digit",
                                                      second: "2-digit", hourCycle: "h23" });
      localName = uniq[0];
    } catch (e) { localFmt = null; }
  })();

  var STEPS = [1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 108e5, 216e5, 432e5,
               864e5, 1728e5, 6048e5, 2592e6];
  function timeTicks(a, b, n) {
    var step = STEPS[STEPS.length - 1];
    for (var i = 0; i < STEPS.length; i++) if ((b - a) / STEPS[i] <= n) { step = STEPS[i]; break; }
    var out = [];
    for (var t = Math.ceil(a / step) * step; t <= b; t += step) out.push(t);
    return { step: step, ticks: out };
  }
  function tickLabel(t, step) {
    var d = new Date(t);
    if (step >= 864e5) return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate());
    var s = pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
    return step < 6e4 ? s + ":" + pad(d.getUTCSeconds()) : s;
  }
  function localLabel(t, step) {
    if (!localFmt || step >= 864e5) return null;
    var s = localFmt.format(new Date(t));
    return step < 6e4 ? s : s.slice(0, 5);
  }
  function nTicks(w) { return Math.max(4, Math.floor((w - LEFT) / 110)); }
  /* vertical grid from y0 to y1; with labels, UTC times above y0 (and the hosts' zone under them) */
  function timeAxis(svg, w, y0, y1, labels) {
    var x = sx(w), tk = timeTicks(view[0], view[1], nTicks(w));
    tk.ticks.forEach(function (t) {
      var px = x(t);
      el("line", { x1: px, x2: px, y1: y0, y2: y1, class: "grid" }, svg);
      if (!labels) return;
      text(svg, px, y0 - (localFmt ? 17 : 5), tickLabel(t, tk.step), null, "middle");
      var loc = localLabel(t, tk.step);
      if (loc) text(svg, px, y0 - 4, loc, "lane-label", "middle").setAttribute("opacity", ".8");
    });
    if (labels) {
      var d0 = new Date(view[0]).toISOString().slice(0, 10), d1 = new Date(view[1]).toISOString().slice(0, 10);
      text(svg, 10, y0 - (localFmt ? 17 : 5), "UTC " + (d0 === d1 ? d0 : d0.slice(5) + " … " + d1.slice(5)), "title");
      if (localFmt) text(svg, 10, y0 - 4, localName, "lane-label");
    }
    return tk;
  }

  /* ---------------------------------------------------------------- tooltip */
  var tip = document.createElement("div");
  tip.className = "tip";
  document.body.appendChild(tip);
  function showTip(ev, lines) {
    tip.textContent = "";
    lines.forEach(function (l, i) {
      var node = document.createElement(i === 0 ? "b" : "div");
      node.textContent = l;
      tip.appendChild(node);
    });
    tip.style.display = "block";
    var x = ev.clientX + 14, y = ev.clientY + 14;
    var r = tip.getBoundingClientRect();
    if (x + r.width > window.innerWidth - 8) x = Math.max(8, ev.clientX - r.width - 14);
    if (y + r.height > window.innerHeight - 8) y = Math.max(8, ev.clientY - r.height - 14);
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  }
  function hideTip() { tip.style.display = "none"; }
  function withTip(node, fn) {
    node.addEventListener("mousemove", function (ev) { showTip(ev, fn()); });
    node.addEventListener("mouseleave", hideTip);
  }
  function rowLines(id) {
    var row = document.getElementById("ev-" + id);
    if (!row) return ["event " + id];
    var c = row.cells, sum = c[7].querySelector("summary");
    var msg = cut((sum ? sum.textContent : c[7].textContent).trim(), 300);
    return [c[4].textContent.trim() + "  " + c[0].textContent.trim() + " UTC",
            [c[2].textContent, c[3].textContent, c[5].textContent, c[6].textContent ? "pid " + c[6].textContent : ""]
              .filter(function (s) { return s && s.trim(); }).join(" · "),
            msg, c[8].textContent.trim()];
  }
  function goToRow(id) {
    var row = document.getElementById("ev-" + id);
    if (!row) return;
    if (row.style.display === "none") resetFilters();
    if (history.replaceState) history.replaceState(null, "", "#ev-" + id);
    row.scrollIntoView({ block: "center" });
    row.classList.add("flash");
    setTimeout(function () { row.classList.remove("flash"); }, 1800);
  }

  /* ---------------------------------------------------------------- zoom */
  function setView(a, b) {
    if (!(b > a)) return;
    a = Math.max(FULL[0], a); b = Math.min(FULL[1], b);
    if (b - a < 2000) { var m = (a + b) / 2; a = m - 1000; b = m + 1000; }
    view = [a, b];
    drawMain();
  }
  /* dragging across a chart zooms the main views to that range; double-click shows the whole window */
  function dragZoom(svg, w, y0, y1, scaleView) {
    var start = null, sel = null, sv = scaleView || null;
    function px(ev) { var r = svg.getBoundingClientRect(); return (ev.clientX - r.left) * (w / r.width); }
    function inv(q) {
      var v = sv || view;
      return v[0] + (q - LEFT) / (w - LEFT - RIGHT) * (v[1] - v[0]);
    }
    svg.addEventListener("mousedown", function (ev) {
      var p = px(ev);
      if (p < LEFT || p > w - RIGHT) return;
      start = p;
      sel = el("rect", { x: p, y: y0, width: 0, height: y1 - y0, class: "sel" }, svg);
      ev.preventDefault();
    });
    svg.addEventListener("mousemove", function (ev) {
      if (start === null) return;
      var p = Math.max(LEFT, Math.min(w - RIGHT, px(ev)));
      sel.setAttribute("x", Math.min(p, start));
      sel.setAttribute("width", Math.abs(p - start));
    });
    window.addEventListener("mouseup", function (ev) {
      if (start === null) return;
      var p = Math.max(LEFT, Math.min(w - RIGHT, px(ev))), s = start;
      start = null;
      if (sel && sel.parentNode) sel.parentNode.removeChild(sel);
      if (Math.abs(p - s) < 5) {
        if (sv) { var half = (view[1] - view[0]) / 2, c = inv(p); setView(c - half, c + half); }
        return;
      }
      setView(inv(Math.min(p, s)), inv(Math.max(p, s)));
    });
    svg.addEventListener("dblclick", function () { setView(FULL[0], FULL[1]); });
  }

  /* ---------------------------------------------------------------- markers */
  function marker(g, cls, cx, cy) {
    var s;
    switch (cls) {
      case "deploy": s = el("path", { d: "M" + cx + " " + (cy - 7) + "l7 7l-7 7l-7 -7z" }, g); break;
      case "kill": s = el("path", { d: "M" + (cx - 7) + " " + (cy - 6) + "h14l-7 13z" }, g); break;
      case "exit": s = el("circle", { cx: cx, cy: cy, r: 5 }, g); break;
      case "gaveup": s = el("rect", { x: cx - 5, y: cy - 5, width: 10, height: 10 }, g); break;
      case "restart": s = el("path", { d: "M" + (cx - 6) + " " + (cy + 5) + "h12l-6 -11z" }, g); break;
      case "start": s = el("circle", { cx: cx, cy: cy, r: 3.5 }, g); break;
      case "stop": s = el("rect", { x: cx - 3.5, y: cy - 3.5, width: 7, height: 7 }, g); break;
      case "error": s = el("rect", { x: cx - 1.5, y: cy - 7, width: 3, height: 14 }, g); break;
      default: s = el("circle", { cx: cx, cy: cy, r: 3 }, g);
    }
    s.setAttribute("class", "m m-" + cls);
    return s;
  }
  var ORDER = { start: 0, stop: 1, error: 2, restart: 3, exit: 4, deploy: 5, gaveup: 6, kill: 7 };

  /* ---------------------------------------------------------------- the lanes */
  function drawLanes(box, opts) {
    var lanes = [];
    D.lanes.forEach(function (l, i) { if (!opts.host || l.host === opts.host) lanes.push(i); });
    if (!lanes.length) { emptyNote(box, "No timed events in this window."); return; }
    var w = widthOf(box), top = localFmt ? 40 : 28, laneH = opts.compact ? 22 : 26, hostH = opts.host ? 0 : 22;
    var hosts = [], byHost = {};
    lanes.forEach(function (i) {
      var l = D.lanes[i];
      if (!byHost[l.host]) { byHost[l.host] = []; hosts.push(l.host); }
      byHost[l.host].push(i);
    });
    var h = top + hosts.length * hostH + lanes.length * laneH + 8;
    var svg = svgFor(box, w, h);
    svg.setAttribute("data-lanes", lanes.length);
    svg.setAttribute("aria-label", "Timeline: " + lanes.length + " lanes");
    var x = sx(w);
    var laneY = {}, hostSpan = {}, y = top;
    hosts.forEach(function (host) {
      var y0 = y;
      if (hostH) text(svg, 10, y + 15, host, "host");
      y += hostH;
      byHost[host].forEach(function (i, k) {
        laneY[i] = y;
        if ((k % 2) === 0) el("rect", { x: LEFT, y: y, width: w - LEFT - RIGHT, height: laneH, class: "lane-bg" }, svg);
        text(svg, hostH ? 22 : 10, y + laneH / 2 + 4, LANE_NAMES[D.lanes[i].lane] || D.lanes[i].lane, "lane-label");
        y += laneH;
      });
      hostSpan[host] = [y0, y];
      el("line", { x1: 8, x2: w - RIGHT, y1: y + 0.5, y2: y + 0.5, class: "host-sep" }, svg);
    });
    timeAxis(svg, w, top, h - 8, true);
    var g = el("g", { "clip-path": clip(svg, LEFT, 0, w - LEFT - RIGHT, h) }, svg);
    /* incident windows: the impact window lightly, first death to recovery strongly */
    D.incidents.forEach(function (inc) {
      var span = hostSpan[inc.host];
      if (!span) return;
      if (inc.w0 !== null && inc.w1 !== null)
        el("rect", { x: x(inc.w0), y: span[0], width: Math.max(1, x(inc.w1) - x(inc.w0)), height: span[1] - span[0],
                     class: "inc-impact" }, g);
      var a = x(inc.t), b = Math.max(x(inc.end), a + 3);
      el("rect", { x: a, y: span[0], width: b - a, height: span[1] - span[0], class: "inc" }, g);
      el("line", { x1: a, x2: a, y1: span[0], y2: span[1], class: "inc-edge" }, g);
      var label = "#" + inc.n + (inc.svc ? " " + inc.svc : "");
      var ly = span[0] + (hostH ? 14 : 12);
      if (a > w - RIGHT - 8 * label.length) text(g, a - 4, ly, label, "inc-label", "end");
      else text(g, a + 4, ly, label, "inc-label");
    });
    /* errors and 5xx per bin, as bars at the foot of their lane */
    var byLane = {};
    D.density.forEach(function (d) {
      if (laneY[d[0]] === undefined) return;
      (byLane[d[0]] = byLane[d[0]] || { step: d[1], rows: [] }).rows.push([d[2], d[3]]);
    });
    Object.keys(byLane).forEach(function (li) {
      var rb = rebin(byLane[li].rows, byLane[li].step, w, 3), maxD = 1, ly = laneY[li];
      rb.rows.forEach(function (d) { if (d[1] > maxD) maxD = d[1]; });
      rb.rows.forEach(function (d) {
        var hh = 3 + (laneH - 6) * Math.log(1 + d[1]) / Math.log(1 + maxD);
        var r = el("rect", { x: x(d[0]), y: ly + laneH - 2 - hh, width: Math.max(1.5, x(d[0] + rb.step) - x(d[0])),
                             height: hh, class: "dens", opacity: 0.3 }, g);
        withTip(r, function () { return [d[1] + " error" + (d[1] === 1 ? "" : "s") + " or 5xx",
                                        fmtUTC(d[0], true) + " UTC + " + fmtSpan(rb.step)]; });
      });
    });
    /* deploys as lines across their host */
    D.markers.forEach(function (m) {
      if (m[3] !== "deploy" || !inView(m[1]) || laneY[m[2]] === undefined) return;
      var span = hostSpan[D.lanes[m[2]].host];
      el("line", { x1: x(m[1]), x2: x(m[1]), y1: span[0] + hostH, y2: span[1], class: "deploy-line" }, g);
    });
    /* markers, the important ones drawn last (on top) */
    var ms = D.markers.filter(function (m) { return inView(m[1]) && laneY[m[2]] !== undefined; });
    ms.sort(function (a, b) { return (ORDER[a[3]] || 0) - (ORDER[b[3]] || 0); });
    var mg = el("g", { class: "markers" }, g);
    ms.forEach(function (m) {
      var s = marker(mg, m[3], x(m[1]), laneY[m[2]] + laneH / 2);
      s.setAttribute("data-id", m[0]);
      withTip(s, function () { return rowLines(m[0]); });
      s.addEventListener("click", function () { goToRow(m[0]); });
    });
    dragZoom(svg, w, top, h - 8);
  }

  function drawOverview() {
    var box = document.getElementById("overview");
    box.textContent = "";
    var w = widthOf(box), h = 46, svg = svgFor(box, w, h), current = view;
    withView(FULL, function () {
      var x = sx(w), tk = timeAxis(svg, w, 16, h - 4, false);
      tk.ticks.forEach(function (t) { text(svg, x(t), 12, tickLabel(t, tk.step), null, "middle"); });
      text(svg, 10, 30, "whole window", "lane-label");
      text(svg, 10, 42, fmtSpan(FULL[1] - FULL[0]), "lane-label");
      D.incidents.forEach(function (inc) {
        el("rect", { x: x(inc.t), y: 18, width: Math.max(3, x(inc.end) - x(inc.t)), height: h - 22, class: "inc" }, svg);
      });
      D.markers.forEach(function (m) {
        if (m[3] === "start" || m[3] === "stop") return;
        var big = m[3] === "kill" || m[3] === "deploy";
        el("rect", { x: x(m[1]) - 0.75, y: big ? 22 : 30, width: 1.5, height: big ? 20 : 12, class: "m-" + m[3] }, svg);
      });
      el("rect", { x: x(current[0]), y: 17, width: Math.max(2, x(current[1]) - x(current[0])), height: h - 20,
                   class: "brush", "fill-opacity": ".5" }, svg);
    });
    dragZoom(svg, w, 17, h - 3, FULL);
  }

  function drawLegend() {
    var box = document.getElementById("legend");
    box.textContent = "";
    MARK_NAMES.forEach(function (k) {
      var span = document.createElement("span");
      var s = el("svg", { viewBox: "-8 -8 16 16", width: 14, height: 14 });
      marker(s, k[0], 0, 0);
      span.appendChild(s);
      span.appendChild(document.createTextNode(k[1]));
      box.appendChild(span);
    });
    [["inc", "incident: first death to recovery"], ["inc-impact", "impact window (5 min before to 1 min after)"],
     ["dens", "errors and 5xx"]].forEach(function (k) {
      var span = document.createElement("span");
      var s = el("svg", { viewBox: "0 0 14 14", width: 14, height: 14 });
      el("rect", { x: 0, y: 0, width: 14, height: 14, class: k[0], opacity: k[0] === "dens" ? 0.4 : 1 }, s);
      span.appendChild(s);
      span.appendChild(document.createTextNode(k[1]));
      box.appendChild(span);
    });
  }

  /* ---------------------------------------------------------------- charts */
  function emptyNote(box, msg) {
    var d = document.createElement("div");
    d.className = "empty";
    d.textContent = msg;
    box.appendChild(d);
  }
  function niceStep(raw) {
    if (raw <= 0) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * p;
  }
  /* a y scale up to at least max: {max, ticks, fmt} */
  function countScale(max, n) {
    var step = Math.max(1, Math.ceil(niceStep(max / n)));
    var top = Math.max(step, Math.ceil(max / step) * step), ticks = [];
    for (var v = 0; v <= top + 1e-9; v += step) ticks.push(v);
    return { max: top, ticks: ticks, fmt: function (v) { return v.toLocaleString("en"); } };
  }
  function bytesScale(max, n) {
    var units = [["GiB", 1073741824], ["MiB", 1048576], ["KiB", 1024], ["B", 1]], u = units[3];
    for (var i = 0; i < units.length; i++) if (max >= units[i][1]) { u = units[i]; break; }
    var step = niceStep(max / u[1] / n) * u[1];
    var top = Math.max(step, Math.ceil(max / step) * step), ticks = [];
    for (var v = 0; v <= top + step / 1e6; v += step) ticks.push(v);
    var dec = step / u[1] < 1 ? 1 : 0;
    return { max: top, ticks: ticks, fmt: function (v) { return v === 0 ? "0" : (v / u[1]).toFixed(dec) + " " + u[0]; } };
  }
  function yAxis(svg, w, y0, y1, sc) {
    sc.ticks.forEach(function (v, i) {
      var y = y1 - (y1 - y0) * v / sc.max;
      el("line", { x1: LEFT, x2: w - RIGHT, y1: y, y2: y, class: i === 0 ? "axis" : "grid" }, svg);
      text(svg, LEFT - 8, y + 4, sc.fmt(v), null, "end");
    });
  }
  function incidentBands(g, x, y0, y1, host) {
    D.incidents.forEach(function (inc) {
      if (host && inc.host !== host) return;
      el("rect", { x: x(inc.t), y: y0, width: Math.max(2, x(inc.end) - x(inc.t)), height: y1 - y0, class: "inc" }, g);
    });
  }
  function chartFrame(box, w, h, title, sub) {
    var wrap = document.createElement("div");
    box.appendChild(wrap);
    var svg = svgFor(wrap, w, h);
    text(svg, 12, 20, title, "title");
    if (sub) text(svg, 12, 36, sub, "lane-label");
    return svg;
  }
  /* a legend right-aligned on the title line: [[class, label], ...] */
  function legendRight(svg, w, items, swatch) {
    var lx = w - RIGHT;
    items.slice().reverse().forEach(function (l) {
      var t = text(svg, lx, 19, l[1], "legend-text", "end");
      var len = 7 * l[1].length;
      try { len = t.getComputedTextLength() || len; } catch (e) { /* not laid out */ }
      lx -= len;
      if (l[0] === "kill-pt") el("path", { d: "M" + (lx - 17) + " 10l8 8m0 -8l-8 8", class: l[0] }, svg);
      else if (swatch === "line") el("rect", { x: lx - 18, y: 13, width: 12, height: 3, class: l[0] }, svg);
      else el("rect", { x: lx - 16, y: 9, width: 10, height: 10, class: l[0] }, svg);
      lx -= 34;
    });
  }

  function drawMemory(box, charts, opts) {
    if (!charts.length) {
      emptyNote(box, "No memory figures in the logs (process.memoryUsage() printouts, V8 GC lines, PM2 lists, " +
                     "systemd's memory peak, the kernel's OOM report).");
      return;
    }
    var w = widthOf(box), h = opts.compact ? 170 : 210, y0 = 50, y1 = h - 24;
    charts.forEach(function (c) {
      var sub = c.limits.length ? "limit: " + c.limits.map(function (l) { return l.label; }).join(", ") : "no limit known";
      var svg = chartFrame(box, w, h, "Memory of " + c.svc + " on " + c.host, sub);
      svg.setAttribute("data-chart", "memory");
      var max = 0;
      c.series.forEach(function (s) { s.pts.forEach(function (p) { if (inView(p[0]) && p[1] > max) max = p[1]; }); });
      c.points.forEach(function (p) { if (p.v > max) max = p.v; });
      c.limits.forEach(function (l) { if (l.v > max) max = l.v; });
      var sc = bytesScale(Math.max(1, max * 1.05), 4);
      var x = sx(w), y = function (v) { return y1 - (y1 - y0) * v / sc.max; };
      timeAxis(svg, w, y0, y1, false);
      yAxis(svg, w, y0, y1, sc);
      var g = el("g", { "clip-path": clip(svg, LEFT, y0 - 10, w - LEFT - RIGHT, y1 - y0 + 12) }, svg);
      incidentBands(g, x, y0, y1, c.host);
      c.limits.forEach(function (l) {
        el("line", { x1: LEFT, x2: w - RIGHT, y1: y(l.v), y2: y(l.v), class: "limit" }, g);
        text(svg, LEFT + 8, y(l.v) - 5, l.label, "limit-label");
      });
      var legend = [];
      c.series.forEach(function (s, i) {
        var cls = "s" + (i % 5 + 1);
        if (s.pts.length > 1) {
          /* a death between two samples ends one process's line: the next sample is its successor's */
          var cuts = c.points.map(function (p) { return p.t; });
          var d = s.pts.map(function (p, j) {
            var cut = j && cuts.some(function (t) { return t > s.pts[j - 1][0] && t <= p[0]; });
            return (j && !cut ? "L" : "M") + x(p[0]).toFixed(1) + " " + y(p[1]).toFixed(1);
          }).join("");
          el("path", { d: d, class: "line " + cls }, g);
        }
        if (s.pts.length < 80) s.pts.forEach(function (p) {
          var dot = el("circle", { cx: x(p[0]), cy: y(p[1]), r: 3, class: "dot " + cls }, g);
          withTip(dot, function () { return [s.metric + " " + fmtBytes(p[1]), fmtUTC(p[0], true) + " UTC"]; });
        });
        legend.push([cls, s.metric]);
      });
      if (c.points.length) legend.push(["kill-pt", "at a memory death"]);
      legendRight(svg, w, legend, "line");
      c.points.forEach(function (p) {
        var px = x(p.t), py = y(p.v);
        el("path", { d: "M" + (px - 5) + " " + (py - 5) + "l10 10m0 -10l-10 10", class: "kill-pt" }, g);
        var hit = el("circle", { cx: px, cy: py, r: 8, fill: "transparent" }, g);
        hit.style.cursor = "pointer";
        withTip(hit, function () { return [p.label + ": " + fmtBytes(p.v), fmtUTC(p.t, true) + " UTC"]; });
        hit.addEventListener("click", function () { goToRow(p.id); });
      });
      if (!opts.compact) dragZoom(svg, w, y0, y1);
    });
  }

  function drawHttp(box, hosts, opts) {
    if (!hosts.length) { emptyNote(box, "No web server access log in this window."); return; }
    var w = widthOf(box), h = opts.compact ? 140 : 170, y0 = 46, y1 = h - 22;
    hosts.forEach(function (hh) {
      var rb = rebin(hh.rows, hh.step, w, 4), step = rb.step, n = 0, n5 = 0, max = 1;
      rb.rows.forEach(function (r) { n += r[1]; n5 += r[2]; if (r[1] > max) max = r[1]; });
      var svg = chartFrame(box, w, h, "Requests per " + perLabel(step) + " on " + hh.host,
                           n.toLocaleString("en") + " requests, " + n5.toLocaleString("en") + " × 5xx in view");
      svg.setAttribute("data-chart", "http");
      var sc = countScale(max, 3);
      var x = sx(w), y = function (v) { return y1 - (y1 - y0) * v / sc.max; };
      timeAxis(svg, w, y0, y1, false);
      yAxis(svg, w, y0, y1, sc);
      var g = el("g", { "clip-path": clip(svg, LEFT, y0 - 2, w - LEFT - RIGHT, y1 - y0 + 2) }, svg);
      incidentBands(g, x, y0, y1, hh.host);
      rb.rows.forEach(function (r) {
        var bx = x(r[0]) + 0.5, bw = Math.max(1.2, x(r[0] + step) - x(r[0]) - 1);
        el("rect", { x: bx, y: y(r[1]), width: bw, height: y1 - y(r[1]), class: "bar-total" }, g);
        if (r[3]) el("rect", { x: bx, y: y(r[2] + r[3]), width: bw, height: y(r[2]) - y(r[2] + r[3]), class: "bar-4xx" }, g);
        if (r[2]) el("rect", { x: bx, y: y(r[2]), width: bw, height: y1 - y(r[2]), class: "bar-5xx" }, g);
        var hit = el("rect", { x: bx, y: y0, width: bw, height: y1 - y0, fill: "transparent" }, g);
        withTip(hit, function () { return [fmtUTC(r[0], true) + " UTC + " + fmtSpan(step),
                                           r[1] + " requests, " + r[2] + " × 5xx, " + r[3] + " × 4xx"]; });
      });
      legendRight(svg, w, [["bar-total", "all requests"], ["bar-4xx", "4xx"], ["bar-5xx", "5xx"]], "box");
      if (!opts.compact) dragZoom(svg, w, y0, y1);
    });
  }

  function drawRestarts(box, rows, opts) {
    if (!rows.length) { emptyNote(box, "No starts or exits reported by systemd, PM2 or supervisor."); return; }
    var w = widthOf(box), rowH = 56, top = 40, h = top + rows.length * rowH + 10;
    var bins = rows.map(function (r) { return rebin(r.rows, r.step, w, 4); });
    var wrap = document.createElement("div");
    box.appendChild(wrap);
    var svg = svgFor(wrap, w, h);
    svg.setAttribute("data-chart", "restarts");
    text(svg, 12, 20, "Starts (up) and process exits (down), as systemd, PM2 and supervisor reported them", "title");
    legendRight(svg, w, [["bar-restart", "start"], ["bar-exit", "exit"], ["bar-gaveup", "gave up"]], "box");
    timeAxis(svg, w, top, h - 8, false);
    var x = sx(w), max = 1;
    bins.forEach(function (rb) { rb.rows.forEach(function (b) { max = Math.max(max, b[1], b[2] + b[3]); }); });
    var g = el("g", { "clip-path": clip(svg, LEFT, top, w - LEFT - RIGHT, h - top) }, svg);
    rows.forEach(function (r, i) {
      var mid = top + i * rowH + rowH / 2, half = rowH / 2 - 6, step = bins[i].step;
      D.incidents.forEach(function (inc) {
        if (inc.host !== r.host) return;
        el("rect", { x: x(inc.t), y: mid - half - 4, width: Math.max(2, x(inc.end) - x(inc.t)), height: 2 * half + 8,
                     class: "inc" }, g);
      });
      text(svg, 12, mid - 4, cut(r.svc, 24), "title");
      text(svg, 12, mid + 12, cut(r.host, 12) + ": " + r.starts + " start" + (r.starts === 1 ? "" : "s") + ", " +
           r.deaths + " exit" + (r.deaths === 1 ? "" : "s") + (r.gaveup ? ", gave up" : ""), "lane-label");
      el("line", { x1: LEFT, x2: w - RIGHT, y1: mid, y2: mid, class: "axis" }, svg);
      bins[i].rows.forEach(function (b) {
        var bx = x(b[0]), bw = Math.max(3, x(b[0] + step) - bx - 1);
        if (b[1]) el("rect", { x: bx, y: mid - half * b[1] / max, width: bw, height: half * b[1] / max, class: "bar-restart" }, g);
        if (b[2]) el("rect", { x: bx, y: mid, width: bw, height: half * b[2] / max, class: "bar-exit" }, g);
        if (b[3]) el("rect", { x: bx, y: mid + half * b[2] / max, width: bw, height: half * b[3] / max, class: "bar-gaveup" }, g);
        var hit = el("rect", { x: bx, y: mid - half, width: bw, height: 2 * half, fill: "transparent" }, g);
        withTip(hit, function () { return [r.svc + " on " + r.host, fmtUTC(b[0], true) + " UTC + " + fmtSpan(step),
                                           b[1] + " starts, " + b[2] + " exits" + (b[3] ? ", gave up" : "")]; });
      });
    });
    if (!opts.compact) dragZoom(svg, w, top, h - 8);
  }

  /* ---------------------------------------------------------------- the page */
  /* an incident's window: 5 min before the first death (from its deploy, when that is near) to a minute
     after it ran again; never back: 5 min after the last death (the impact window runs on, shaded) */
  function incidentView(inc) {
    if (!inc || inc.w0 === null) return null;
    var a = Math.min(inc.w0, inc.deploy && inc.t - inc.deploy < 72e5 ? inc.deploy : inc.w0);
    var b = inc.recovered ? inc.w1 : inc.last + 3e5;
    var p = (b - a) * 0.04;
    return [Math.max(FULL[0], a - p), Math.min(FULL[1], b + p)];
  }
  function reset(id) { var b = document.getElementById(id); b.textContent = ""; return b; }
  function drawMain() {
    hideTip();
    document.documentElement.setAttribute("data-view", Math.round(view[0]) + "," + Math.round(view[1]));
    drawOverview();
    drawLanes(reset("lanes"), {});
    drawMemory(reset("chart-memory"), D.memory, {});
    drawHttp(reset("chart-http"), D.http, {});
    drawRestarts(reset("chart-restarts"), D.lifecycle, {});
  }
  /* each incident card: its host's lanes, its service's memory and its host's requests, over its own window */
  function drawCards() {
    Array.prototype.forEach.call(document.querySelectorAll(".card-charts"), function (box) {
      var n = parseInt(box.getAttribute("data-inc"), 10);
      var inc = D.incidents.filter(function (i) { return i.n === n; })[0], v = incidentView(inc);
      box.textContent = "";
      if (!v) return;
      withView(v, function () {
        var lanes = document.createElement("div");
        box.appendChild(lanes);
        drawLanes(lanes, { host: inc.host, compact: true });
        var mem = D.memory.filter(function (c) { return c.incidents.indexOf(n) >= 0; }).slice(0, 2);
        /* memory over the growth that led to the death, not only the minutes around it */
        var mv = inc.mem0 !== null && inc.mem0 < v[0] ? [inc.mem0 - (v[1] - inc.mem0) * 0.03, v[1]] : v;
        if (mem.length) withView(mv, function () { drawMemory(box, mem, { compact: true }); });
        var http = D.http.filter(function (hh) { return hh.host === inc.host; });
        if (http.length) drawHttp(box, http, { compact: true });
        var life = D.lifecycle.filter(function (r) { return r.host === inc.host && inc.names.indexOf(r.svc) >= 0; });
        if (life.length && (inc.deaths > 1 || inc.gave_up)) drawRestarts(box, life, { compact: true });
      });
    });
  }
  function drawAll() {
    drawCards();
    drawMain();
  }

  /* ---------------------------------------------------------------- the events table's filters */
  var fHost = document.getElementById("f-host"), fSource = document.getElementById("f-source"),
      fKind = document.getElementById("f-kind"), fText = document.getElementById("f-text"),
      fCount = document.getElementById("f-count");
  var rows = Array.prototype.slice.call(document.querySelectorAll("table.events tbody tr"));
  var rowText = null;
  function applyFilters() {
    if (!rowText) rowText = rows.map(function (r) { return r.textContent.toLowerCase(); });
    var h = fHost.value, s = fSource.value, k = fKind.value, q = fText.value.trim().toLowerCase(), n = 0;
    rows.forEach(function (r, i) {
      var ok = (!h || r.getAttribute("data-host") === h) && (!s || r.getAttribute("data-source") === s) &&
               (!k || r.getAttribute("data-kind") === k) && (!q || rowText[i].indexOf(q) >= 0);
      r.style.display = ok ? "" : "none";
      if (ok) n++;
    });
    fCount.textContent = n + " of " + rows.length + " shown";
  }
  function resetFilters() {
    fHost.value = ""; fSource.value = ""; fKind.value = ""; fText.value = "";
    applyFilters();
  }
  [fHost, fSource, fKind].forEach(function (f) { f.addEventListener("change", applyFilters); });
  fText.addEventListener("input", applyFilters);
  fCount.textContent = rows.length + " of " + rows.length + " shown";
  window.addEventListener("beforeprint", resetFilters);
  document.querySelector("table.events tbody").addEventListener("click", function (ev) {
    var c = ev.target.closest ? ev.target.closest(".clamp") : null;
    if (c) c.classList.toggle("open");
  });

  /* ---------------------------------------------------------------- buttons */
  Array.prototype.forEach.call(document.querySelectorAll(".zoom-btn"), function (b) {
    b.addEventListener("click", function () {
      var n = parseInt(b.getAttribute("data-inc"), 10);
      var v = incidentView(D.incidents.filter(function (i) { return i.n === n; })[0]);
      if (v) setView(v[0], v[1]);
      if (b.closest(".card")) document.getElementById("timeline").scrollIntoView({ behavior: "smooth" });
    });
  });
  document.getElementById("zoom-all").addEventListener("click", function () { setView(FULL[0], FULL[1]); });
  document.getElementById("zoom-out").addEventListener("click", function () {
    var m = (view[0] + view[1]) / 2, half = view[1] - view[0];
    setView(m - half, m + half);
  });
  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(drawAll, 150);
  });

  /* open on the incidents (with their deploy when it is near); incidents far apart: on the first */
  if (D.incidents.length) {
    var vs = D.incidents.map(incidentView).filter(function (v) { return v; });
    if (vs.length) {
      var a0 = Math.min.apply(null, vs.map(function (v) { return v[0]; }));
      var b0 = Math.max.apply(null, vs.map(function (v) { return v[1]; }));
      view = b0 - a0 > 6 * 36e5 ? vs[0] : [a0, b0];
    }
  } else if (D.focus && D.focus[1] > D.focus[0] && (D.focus[1] - D.focus[0]) < (FULL[1] - FULL[0]) / 2) {
    /* no incident: open where most events are (a lone early deploy need not squash the rest) */
    var fp = Math.max(6e4, (D.focus[1] - D.focus[0]) * 0.05);
    view = [Math.max(FULL[0], D.focus[0] - fp), Math.min(FULL[1], D.focus[1] + fp)];
  }
  drawLegend();
  drawAll();
  document.documentElement.setAttribute("data-rendered", "1");
})();
