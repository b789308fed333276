// Meridian dashboard. Every refresh builds one model of the cluster, from Prometheus' HTTP API
// (PromQL over the committed recording rules, through the server that served this page) when
// the config says Prometheus runs and it answers, and otherwise from the /metrics pages
// themselves (quantiles and rates then come from the difference between two refreshes). The
// model is rendered into the panels; each panel's data-rows attribute says how many rows it
// shows, which is what the browser test checks.
'use strict';

const REFRESH_MS = 2000;
const HISTORY = 90;  // chart points kept: three minutes at one refresh every two seconds
const DATA_CLASSES = ['profile', 'counter', 'tags', 'register'];
const DATA_OPS = ['read', 'write', 'quorum_read'];
const COLORS = ['#2563eb', '#d97706', '#059669', '#db2777', '#7c3aed', '#0891b2', '#65a30d',
                '#dc2626', '#4b5563'];

let config = null;
let previous = null;  // the last metrics-mode scrape, for rates and recent quantiles
const history = {latency: new Map(), lag: new Map()};

// ---- Prometheus text exposition -------------------------------------------------------------

function parseLabels(text) {
  const labels = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  let m;
  while ((m = re.exec(text)) !== null) labels[m[1]] = m[2].replace(/\\(.)/g, '$1');
  return labels;
}

// [{name, labels, value}] for every sample line.
function parseExposition(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    samples.push({name: m[1], labels: m[3] ? parseLabels(m[3]) : {}, value: Number(m[4])});
  }
  return samples;
}

const keyOf = (labels) => JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));

// histogram_quantile over cumulative buckets [{le, count}], as Prometheus computes it.
function quantile(q, buckets) {
  const sorted = buckets.slice().sort((a, b) => a.le - b.le);
  if (sorted.length === 0) return NaN;
  const total = sorted[sorted.length - 1].count;
  if (!(total > 0)) return NaN;
  const rank = q * total;
  let lowerLe = 0;
  let lowerCount = 0;
  for (const b of sorted) {
    if (b.count >= rank) {
      if (b.le === Infinity) return lowerLe;
      const width = b.le - lowerLe;
      const inBucket = b.count - lowerCount;
      return inBucket > 0 ? lowerLe + width * ((rank - lowerCount) / inBucket) : b.le;
    }
    lowerLe = b.le;
    lowerCount = b.count;
  }
  return NaN;
}

// Histograms of `name` grouped by their labels minus le: Map(key -> {labels, buckets}).
function histograms(samples, name) {
  const out = new Map();
  for (const s of samples) {
    if (s.name !== name + '_bucket') continue;
    const labels = Object.assign({}, s.labels);
    const le = labels.le === '+Inf' ? Infinity : Number(labels.le);
    delete labels.le;
    const k = keyOf(labels);
    if (!out.has(k)) out.set(k, {labels, buckets: []});
    out.get(k).buckets.push({le, count: s.value});
  }
  return out;
}

// The buckets observed since the previous scrape (or since start, on the first).
function recent(now, before) {
  if (!before) return now;
  const old = new Map(before.map((b) => [b.le, b.count]));
  return now.map((b) => ({le: b.le, count: b.count - (old.get(b.le) || 0)}));
}

function counterRate(value, previousValue, seconds) {
  if (previousValue === undefined || seconds <= 0) return NaN;
  return Math.max(0, value - previousValue) / seconds;
}

// ---- Model from /metrics pages ---------------------------------------------------------------

async function fetchText(url) {
  const response = await fetch(url, {cache: 'no-store'});
  if (!response.ok) throw new Error(url + ': HTTP ' + response.status);
  return response.text();
}

async function modelFromMetrics() {
  const now = Date.now();
  const names = Object.keys(config.metrics_urls);
  const texts = await Promise.all(names.map((n) => fetchText(config.metrics_urls[n])
                                                        .then((t) => parseExposition(t))
                                                        .catch(() => null)));
  const scrape = {time: now, sources: {}};
  names.forEach((n, i) => { scrape.sources[n] = texts[i]; });
  const seconds = previous ? (now - previous.time) / 1000 : 0;
  const model = emptyModel('metrics');

  for (const region of config.regions) {
    const samples = scrape.sources[region];
    const before = previous && previous.sources[region];
    if (!samples) {
      model.health.push({region, status: 'unreachable', up: false, peers: '-'});
      continue;
    }
    const value = (name, match) => samples.filter((s) => s.name === name &&
        Object.entries(match || {}).every(([k, v]) => s.labels[k] === v));
    const status = value('meridian_region_status').find((s) => s.value === 1);
    const peers = value('meridian_peer_connected');
    model.health.push({region, status: status ? status.labels.status : 'unknown', up: true,
                       peers: peers.filter((s) => s.value === 1).length + '/' + peers.length});

    const oldHist = before ? histograms(before, 'meridian_http_request_duration_seconds') : null;
    const oldCounts = new Map((before || []).filter((s) => s.name === 'meridian_http_requests_total')
                                  .map((s) => [keyOf(s.labels), s.value]));
    const requestRate = (cls, op, code) => {
      let rate = 0;
      for (const s of value('meridian_http_requests_total')) {
        if (s.labels.class !== cls || s.labels.op !== op) continue;
        if (code && s.labels.code !== code) continue;
        const r = counterRate(s.value, oldCounts.get(keyOf(s.labels)), seconds);
        if (isNaN(r)) return NaN;
        rate += r;
      }
      return rate;
    };
    for (const [k, h] of histograms(samples, 'meridian_http_request_duration_seconds')) {
      const {class: cls, op} = h.labels;
      const old = oldHist && oldHist.get(k);
      const buckets = recent(h.buckets, old && old.buckets);
      const row = {region, cls, op, p50: quantile(0.5, buckets), p99: quantile(0.99, buckets),
                   rate: requestRate(cls, op)};
      if (DATA_CLASSES.includes(cls) && DATA_OPS.includes(op)) model.latency.push(row);
      if (cls === 'handle' && op === 'claim') {
        model.handles.push({region, p50: row.p50, p99: row.p99,
                            unavailable: requestRate('handle', 'claim', '503')});
      }
    }

    const oldLag = before ? histograms(before, 'meridian_replication_lag_seconds') : null;
    const links = new Map();
    for (const [k, h] of histograms(samples, 'meridian_replication_lag_seconds')) {
      const old = oldLag && oldLag.get(k);
      const buckets = recent(h.buckets, old && old.buckets);
      links.set(h.labels.origin + ' → ' + region,
                {p50: quantile(0.5, buckets), p99: quantile(0.99, buckets)});
    }
    for (const s of value('meridian_replication_backlog_ops')) {
      const link = region + ' → ' + s.labels.peer;
      if (!links.has(link)) links.set(link, {p50: NaN, p99: NaN});
      links.get(link).backlog = s.value;
    }
    for (const [link, figures] of links) model.lag.push(Object.assign({link}, figures));

    const oldConflicts = new Map((before || []).filter((s) => s.name === 'meridian_conflicts_total')
                                     .map((s) => [keyOf(s.labels), s.value]));
    for (const s of value('meridian_conflicts_total')) {
      model.conflicts.push({region, cls: s.labels.class, outcome: s.labels.outcome,
                            rate: counterRate(s.value, oldConflicts.get(keyOf(s.labels)), seconds),
                            total: s.value});
    }
    for (const s of value('meridian_clock_offset_seconds')) {
      model.clock.push({region, peer: s.labels.peer, offset: s.value});
    }
  }

  const router = scrape.sources.router;
  if (router) {
    const before = previous && previous.sources.router;
    const total = (samples, name) => (samples || []).filter((s) => s.name === name)
                                         .reduce((sum, s) => sum + s.value, 0);
    model.router = {
      available: true,
      reroutes: counterRate(total(router, 'meridian_router_reroutes_total'),
                            before ? total(before, 'meridian_router_reroutes_total') : undefined,
                            seconds),
      stale: counterRate(total(router, 'meridian_router_stale_answers_total'),
                         before ? total(before, 'meridian_router_stale_answers_total') : undefined,
                         seconds),
      regions: router.filter((s) => s.name === 'meridian_router_region_healthy')
                   .map((s) => ({region: s.labels.region, healthy: s.value === 1})),
    };
  }
  previous = scrape;
  return model;
}

// ---- Model from Prometheus -------------------------------------------------------------------

async function query(promql) {
  const url = config.query_url + '?query=' + encodeURIComponent(promql);
  const response = await fetch(url, {cache: 'no-store'});
  if (!response.ok) throw new Error('Prometheus: HTTP ' + response.status);
  const body = await response.json();
  if (body.status !== 'success') throw new Error('Prometheus: ' + (body.error || body.status));
  return body.data.result.map((r) => ({labels: r.metric, value: Number(r.value[1])}));
}

async function modelFromPrometheus() {
  const classes = DATA_CLASSES.join('|');
  const ops = DATA_OPS.join('|');
  const dataSel = `{class=~"${classes}",op=~"${ops}"}`;
  const claimSel = '{class="handle",op="claim"}';
  const q = await Promise.all([
    query('meridian_region_status == 1'),
    query('up{job="meridian_region"}'),
    query('sum by (region) (meridian_peer_connected)'),
    query('count by (region) (meridian_peer_connected)'),
    query('meridian:http_request_duration_seconds:p50_1m' + dataSel),
    query('meridian:http_request_duration_seconds:p99_1m' + dataSel),
    query(`sum by (region, class, op) (meridian:http_requests:rate1m${dataSel})`),
    query('meridian:replication_lag_seconds:p50_1m'),
    query('meridian:replication_lag_seconds:p99_1m'),
    query('meridian_replication_backlog_ops'),
    query('meridian:conflicts:rate1m'),
    query('meridian:http_request_duration_seconds:p50_1m' + claimSel),
    query('meridian:http_request_duration_seconds:p99_1m' + claimSel),
    query('sum by (region) (rate(meridian_http_requests_total{class="handle",op="claim",' +
          'code="503"}[1m]))'),
    query('meridian:router_reroutes:rate1m'),
    query('sum(rate(meridian_router_stale_answers_total[1m]))'),
    query('meridian_router_region_healthy'),
    query('meridian_clock_offset_seconds'),
    query('meridian_wan_link_enabled'),
    query('meridian_wan_delay_seconds'),
    query('meridian_wan_jitter_seconds'),
    query('sum by (link) (rate(meridian_wan_bytes_forwarded_total[1m]))'),
    query('sum by (link) (rate(meridian_wan_bytes_dropped_total[1m]))'),
  ]);
  const [status, up, peersUp, peersAll, p50, p99, rates, lag50, lag99, backlog, conflicts,
         claim50, claim99, claim503, reroutes, stale, routerHealthy, clock, wanEnabled, wanDelay,
         wanJitter, wanCarried, wanDropped] = q;
  const model = emptyModel('prometheus');
  const by = (rows, ...names) => new Map(rows.map((r) => [names.map((n) => r.labels[n]).join('/'),
                                                           r.value]));

  const statusOf = by(status, 'region');
  const statusName = new Map(status.map((r) => [r.labels.region, r.labels.status]));
  const upOf = by(up, 'region');
  const peersUpOf = by(peersUp, 'region');
  const peersAllOf = by(peersAll, 'region');
  for (const region of config.regions) {
    const scraped = upOf.get(region) === 1;
    model.health.push({
      region,
      status: scraped && statusOf.has(region) ? statusName.get(region) : 'unreachable',
      up: scraped,
      peers: peersAllOf.has(region) && scraped
                 ? peersUpOf.get(region) + '/' + peersAllOf.get(region) : '-',
    });
  }

  const p99Of = by(p99, 'region', 'class', 'op');
  const rateOf = by(rates, 'region', 'class', 'op');
  for (const r of p50) {
    const k = [r.labels.region, r.labels.class, r.labels.op].join('/');
    model.latency.push({region: r.labels.region, cls: r.labels.class, op: r.labels.op,
                        p50: r.value, p99: p99Of.get(k), rate: rateOf.get(k)});
  }

  const lag99Of = by(lag99, 'origin', 'region');
  const links = new Map();
  for (const r of lag50) {
    links.set(r.labels.origin + ' → ' + r.labels.region,
              {p50: r.value, p99: lag99Of.get(r.labels.origin + '/' + r.labels.region)});
  }
  for (const r of backlog) {
    const link = r.labels.region + ' → ' + r.labels.peer;
    if (!links.has(link)) links.set(link, {p50: NaN, p99: NaN});
    links.get(link).backlog = r.value;
  }
  for (const [link, figures] of links) model.lag.push(Object.assign({link}, figures));

  for (const r of conflicts) {
    model.conflicts.push({region: r.labels.region, cls: r.labels.class,
                          outcome: r.labels.outcome, rate: r.value});
  }
  const claim99Of = by(claim99, 'region');
  const claim503Of = by(claim503, 'region');
  for (const r of claim50) {
    model.handles.push({region: r.labels.region, p50: r.value,
                        p99: claim99Of.get(r.labels.region),
                        unavailable: claim503Of.get(r.labels.region) ?? 0});
  }
  model.router = {
    available: routerHealthy.length > 0,
    reroutes: reroutes.length ? reroutes[0].value : NaN,
    stale: stale.length ? stale[0].value : NaN,
    regions: routerHealthy.map((r) => ({region: r.labels.region, healthy: r.value === 1})),
  };
  for (const r of clock) {
    model.clock.push({region: r.labels.region, peer: r.labels.peer, offset: r.value});
  }
  model.wan = wanLinks(wanEnabled, wanDelay, wanJitter, wanCarried, wanDropped);
  return model;
}

// One row per emulated link: cut or not, delay and jitter per direction, bytes/s carried and
// dropped (both directions). Rows come from meridian_wan_link_enabled, which every link has.
function wanLinks(enabled, delay, jitter, carried, dropped) {
  const perDirection = (rows) => {
    const out = new Map();
    for (const r of rows) out.set(r.labels.link + '/' + r.labels.direction, r.value);
    return out;
  };
  const delayOf = perDirection(delay);
  const jitterOf = perDirection(jitter);
  const carriedOf = new Map(carried.map((r) => [r.labels.link, r.value]));
  const droppedOf = new Map(dropped.map((r) => [r.labels.link, r.value]));
  return enabled.map((r) => {
    const link = r.labels.link;
    return {link, up: r.value === 1,
            delayUp: delayOf.get(link + '/upstream'), delayDown: delayOf.get(link + '/downstream'),
            jitterUp: jitterOf.get(link + '/upstream'),
            jitterDown: jitterOf.get(link + '/downstream'),
            carried: carriedOf.get(link), dropped: droppedOf.get(link)};
  });
}

// ---- Rendering -------------------------------------------------------------------------------

function emptyModel(source) {
  return {source, health: [], latency: [], lag: [], conflicts: [], handles: [],
          router: {available: false, regions: []}, clock: [], wan: []};
}

const ms = (seconds) => (seconds === undefined || !isFinite(seconds) ? '–'
                                                                      : (seconds * 1000).toFixed(1));
const num = (x, digits) => (x === undefined || !isFinite(x) ? '–' : x.toFixed(digits));

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function fill(panelId, rows, emptyText) {
  const panel = document.getElementById(panelId);
  const body = panel.querySelector('tbody');
  body.replaceChildren();
  for (const cells of rows) {
    const tr = document.createElement('tr');
    for (const c of cells) tr.appendChild(typeof c === 'string' ? cell(c) : c);
    body.appendChild(tr);
  }
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    const td = cell(emptyText, 'empty');
    td.colSpan = panel.querySelectorAll('th').length;
    tr.appendChild(td);
    body.appendChild(tr);
  }
  panel.dataset.rows = String(rows.length);
}

function statusClass(status) {
  if (status === 'ok') return 'ok';
  if (status === 'catching_up' || status === 'loading' || status === 'draining') return 'warn';
  return 'bad';
}

function remember(series, name, value) {
  if (!series.has(name)) series.set(name, []);
  const points = series.get(name);
  points.push(isFinite(value) ? value : null);
  while (points.length > HISTORY) points.shift();
}

// A small line chart of every series in `series` (ms on the y axis).
function drawChart(canvas, series, label) {
  const ctx = canvas.getContext('2d');
  const w = canvas.width;
  const h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  let max = 0;
  for (const points of series.values()) {
    for (const p of points) if (p !== null) max = Math.max(max, p);
  }
  max = max > 0 ? max * 1.15 : 1;
  const left = 48;
  const top = 18;
  const bottom = h - 16;
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = '#6b7385';
  ctx.strokeStyle = '#e1e4ea';
  for (let i = 0; i <= 4; ++i) {
    const y = bottom - (bottom - top) * i / 4;
    ctx.beginPath();
    ctx.moveTo(left, y);
    ctx.lineTo(w, y);
    ctx.stroke();
    ctx.fillText((max * 1000 * i / 4).toFixed(max * 1000 < 10 ? 1 : 0), 4, y + 4);
  }
  ctx.fillText(label, left, 11);
  let legendX = left + ctx.measureText(label).width + 16;
  let color = 0;
  for (const [name, points] of series) {
    const stroke = COLORS[color++ % COLORS.length];
    ctx.strokeStyle = stroke;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    let drawing = false;
    points.forEach((p, i) => {
      if (p === null) { drawing = false; return; }
      const x = left + (w - left) * i / (HISTORY - 1);
      const y = bottom - (bottom - top) * (p / max);
      if (drawing) ctx.lineTo(x, y); else ctx.moveTo(x, y);
      drawing = true;
    });
    ctx.stroke();
    ctx.fillStyle = stroke;
    ctx.fillText(name, legendX, 11);
    legendX += ctx.measureText(name).width + 14;
    ctx.fillStyle = '#6b7385';
  }
}

function render(model) {
  document.getElementById('source').textContent =
      model.source === 'prometheus' ? 'source: Prometheus' : 'source: /metrics';

  fill('panel-health', model.health.map((r) => [
    r.region, cell(r.status, statusClass(r.status)),
    cell(r.up ? 'up' : 'down', r.up ? 'ok' : 'bad'), r.peers]), 'no regions');

  const sortBy = (rows, ...keys) => rows.sort((a, b) => {
    for (const k of keys) { if (a[k] < b[k]) return -1; if (a[k] > b[k]) return 1; }
    return 0;
  });
  // One row per region and class: reads (local or quorum, whichever is slower) beside writes.
  const byClass = new Map();
  for (const r of model.latency) {
    const k = r.region + '/' + r.cls;
    if (!byClass.has(k)) byClass.set(k, {region: r.region, cls: r.cls, rate: 0});
    const row = byClass.get(k);
    const side = r.op === 'write' ? 'write' : 'read';
    if (!row[side] || (isFinite(r.p99) && !(r.p99 <= row[side].p99))) row[side] = r;
    if (isFinite(r.rate)) row.rate += r.rate;
  }
  const classRows = sortBy([...byClass.values()], 'region', 'cls');
  const side = (r, s, q) => ms(r[s] ? r[s][q] : NaN);
  fill('panel-latency', classRows.map((r) => [
    r.region, r.cls, cell(side(r, 'read', 'p50'), 'num'), cell(side(r, 'read', 'p99'), 'num'),
    cell(side(r, 'write', 'p50'), 'num'), cell(side(r, 'write', 'p99'), 'num'),
    cell(num(r.rate, 1), 'num')]), 'no requests yet');
  for (const region of config.regions) {
    const writes = model.latency.filter((r) => r.region === region && r.op === 'write' &&
                                                 isFinite(r.p99));
    remember(history.latency, region,
             writes.length ? Math.max(...writes.map((r) => r.p99)) : NaN);
  }
  drawChart(document.querySelector('#panel-latency canvas'), history.latency,
            'write p99 (ms), worst class, per region');

  sortBy(model.lag, 'link');
  fill('panel-lag', model.lag.map((r) => [
    r.link, cell(ms(r.p50), 'num'), cell(ms(r.p99), 'num'),
    cell(r.backlog === undefined ? '–' : String(r.backlog), 'num')]), 'no replication yet');
  for (const r of model.lag) {
    if (r.link && (isFinite(r.p99) || history.lag.has(r.link))) {
      remember(history.lag, r.link, r.p99);
    }
  }
  drawChart(document.querySelector('#panel-lag canvas'), history.lag, 'lag p99 (ms) per link');

  sortBy(model.conflicts, 'region', 'cls', 'outcome');
  fill('panel-conflicts', model.conflicts.map((r) => [
    r.region, r.cls, r.outcome, cell(num(r.rate, 2), 'num')]), 'no conflicts yet');

  sortBy(model.handles, 'region');
  fill('panel-handles', model.handles.map((r) => [
    r.region, cell(ms(r.p50), 'num'), cell(ms(r.p99), 'num'),
    cell(num(r.unavailable, 2), 'num')]), 'no handle claims yet');

  const router = model.router;
  fill('panel-router', router.regions.map((r) => [
    r.region, cell(r.healthy ? 'yes' : 'no', r.healthy ? 'ok' : 'bad')]),
       config.scope === 'region' ? 'not part of a region\'s own view' : 'router not scraped');
  document.querySelector('#panel-router .facts').textContent = router.available
      ? 'reroutes: ' + num(router.reroutes, 2) + '/s; stale answers: ' + num(router.stale, 2) + '/s'
      : '';

  // The emulator's figures come through Prometheus only (the /metrics fallback reads the
  // regions and the router, not the emulator).
  sortBy(model.wan, 'link');
  fill('panel-wan', model.wan.map((r) => [
    r.link, cell(r.up ? 'up' : 'cut', r.up ? 'ok' : 'bad'),
    cell(ms(r.delayUp) + ' / ' + ms(r.delayDown), 'num'),
    cell(ms(r.jitterUp) + ' / ' + ms(r.jitterDown), 'num'), cell(num(r.carried, 0), 'num'),
    cell(num(r.dropped, 0), r.dropped > 0 ? 'num bad' : 'num')]),
       model.source === 'prometheus' ? 'no WAN emulator scraped'
                                     : 'WAN emulator figures need Prometheus');

  sortBy(model.clock, 'region', 'peer');
  fill('panel-clock', model.clock.map((r) => [r.region, r.peer, cell(ms(r.offset), 'num')]),
       'no peer heard yet');
}

async function refresh() {
  const error = document.getElementById('error');
  try {
    let model;
    if (config.source === 'prometheus') {
      try {
        model = await modelFromPrometheus();
      } catch (e) {
        // Prometheus stopped answering: the regions' own pages still tell the story.
        model = await modelFromMetrics();
        error.textContent = String(e.message || e) + '; showing /metrics instead';
      }
      if (model.source === 'prometheus') error.textContent = '';
    } else {
      model = await modelFromMetrics();
      error.textContent = '';
    }
    render(model);
    document.getElementById('refreshed').textContent =
        'refreshed ' + new Date().toLocaleTimeString();
    document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes || 0) + 1);
  } catch (e) {
    error.textContent = String(e.message || e);
  }
}

async function main() {
  config = await (await fetch('/dashboard/api/config', {cache: 'no-store'})).json();
  document.getElementById('scope').textContent =
      config.scope === 'region' ? '— region ' + config.regions[0] : '— ' +
      config.regions.join(', ');
  await refresh();
  setInterval(refresh, REFRESH_MS);
}

main();
