// scalepilot dashboard: plain browser JS over the JSON API (api/v1). Pages by URL hash, refreshed every few seconds;
// steering asks for the bearer token once per tab and keeps it in sessionStorage.
(function () {
  'use strict';

  var REFRESH_MS = 3000;
  var TOKEN_KEY = 'scalepilot.token';
  var view = document.getElementById('view');
  var banner = document.getElementById('banner');
  var server = null;
  var page = null; // { refresh(): Promise, dispose?() }
  var timer = null;
  var generation = 0;

  // ---- small helpers -------------------------------------------------------------------------------------------

  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === undefined || v === null || v === false) return;
        if (k === 'text') el.textContent = v;
        else if (k === 'class') el.className = v;
        else if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), v);
        else el.setAttribute(k, v === true ? '' : String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }
  function append(el, c) {
    if (c === undefined || c === null || c === false) return;
    if (Array.isArray(c)) c.forEach(function (x) { append(el, x); });
    else el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }
  function byId(id) { return document.getElementById(id); }
  function enc(s) { return encodeURIComponent(s); }

  function num(v, digits) {
    if (v === null || v === undefined || !isFinite(v)) return '–';
    var a = Math.abs(v);
    return String(parseFloat(v.toFixed(digits !== undefined ? digits : a >= 100 ? 0 : a >= 10 ? 1 : 2)));
  }
  function clock(ms) {
    if (!ms) return '–';
    var d = new Date(ms);
    var t = d.toLocaleTimeString([], { hour12: false });
    return d.toDateString() === new Date().toDateString() ? t : d.toISOString().slice(0, 10) + ' ' + t;
  }
  function ago(ms) {
    if (!ms) return 'never';
    var s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    return s < 60 ? s + 's ago' : s < 3600 ? Math.round(s / 60) + 'm ago' : Math.round(s / 3600) + 'h ago';
  }

  function ApiError(status, message) { this.status = status; this.message = message; }
  ApiError.prototype = Object.create(Error.prototype);

  function getJSON(path) {
    return fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (!r.ok) throw new ApiError(r.status, (body && body.error) || r.status + ' ' + r.statusText);
        return body;
      });
    });
  }

  function statusBadge(status, reasons) {
    return h('span', { class: 'badge status-' + status, title: reasons && reasons.length ? reasons.join('\n') : 'no warnings' }, status);
  }
  function utilRow(u) {
    var pct = u.ratio === null ? 0 : Math.min(u.ratio, 2) * 50;
    var cls = 'fill' + (u.ratio !== null && u.ratio > 1.5 ? ' far' : u.ratio !== null && u.ratio > 1 ? ' over' : '');
    var label = u.metric + ' ' + num(u.current) + u.unit + ' / ' + num(u.target) + u.unit + (u.perReplica && u.unit !== '%' ? ' per replica' : '');
    return h('div', { class: 'util' },
      h('span', { class: 'bar', role: 'img', 'aria-label': label + ' (target at the middle mark)' },
        h('span', { class: cls }), h('span', { class: 'mark' })),
      h('span', null, label));
  }
  // widths are set through the CSSOM (allowed by the page's content security policy, inline styles are not)
  function setFills(root, list) {
    var fills = root.querySelectorAll('.util .fill');
    list.forEach(function (u, i) { if (fills[i]) fills[i].style.width = (u.ratio === null ? 0 : Math.min(u.ratio, 2) * 50) + '%'; });
  }
  function alertItem(a, withService) {
    return h('li', null,
      h('span', { class: 'badge sev-' + a.severity }, a.severity),
      withService ? h('a', { href: '#/services/' + enc(a.service) }, a.service) : null,
      h('span', null, a.message),
      h('span', { class: 'muted' }, 'since ' + clock(a.since)));
  }

  // ---- token and steering -----------------------------------------------------------------------------------------

  function getToken() { try { return sessionStorage.getItem(TOKEN_KEY); } catch (e) { return null; } }
  function setToken(t) { try { sessionStorage.setItem(TOKEN_KEY, t); } catch (e) { /* private mode */ } showToken(); }
  function forgetToken() { try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* ignore */ } showToken(); }
  function showToken() {
    var has = !!getToken();
    byId('token-state').textContent = has ? 'Steering token set (this tab)' : 'No steering token';
    byId('token-forget').hidden = !has;
  }
  byId('token-forget').addEventListener('click', forgetToken);

  function modal(dialog, form, cancel, onOpen) {
    return new Promise(function (resolve) {
      function done(v) {
        form.removeEventListener('submit', submit);
        cancel.removeEventListener('click', no);
        dialog.removeEventListener('cancel', esc);
        if (dialog.open) dialog.close();
        resolve(v);
      }
      function submit(e) { e.preventDefault(); done(true); }
      function no() { done(false); }
      function esc(e) { e.preventDefault(); done(false); }
      form.addEventListener('submit', submit);
      cancel.addEventListener('click', no);
      dialog.addEventListener('cancel', esc);
      if (onOpen) onOpen();
      dialog.showModal();
    });
  }

  /** Resolves the token typed (possibly empty: the request then goes without one), or null when cancelled. */
  function askToken() {
    var input = byId('token-input');
    input.value = '';
    return modal(byId('token-dialog'), byId('token-form'), byId('token-cancel'), function () { setTimeout(function () { input.focus(); }, 0); })
      .then(function (ok) { return ok ? input.value.trim() : null; });
  }

  function confirmDialog(title, body, okLabel) {
    byId('confirm-title').textContent = title;
    clear(byId('confirm-body')).appendChild(body);
    byId('confirm-ok').textContent = okLabel;
    return modal(byId('confirm-dialog'), byId('confirm-form'), byId('confirm-cancel'));
  }

  function steer(service, action, body) {
    var token = getToken();
    var ready = token !== null ? Promise.resolve(token) : askToken().then(function (t) { if (t) setToken(t); return t; });
    return ready.then(function (t) {
      if (t === null) return null; // cancelled
      var headers = { 'content-type': 'application/json', accept: 'application/json', 'x-scalepilot-client': 'dashboard' };
      if (t) headers.authorization = 'Bearer ' + t;
      return fetch('api/v1/services/' + enc(service) + '/' + action, { method: 'POST', headers: headers, body: JSON.stringify(body || {}) })
        .then(function (r) {
          return r.json().catch(function () { return {}; }).then(function (data) {
            if (r.status === 401) { forgetToken(); throw new ApiError(401, 'Refused (401): ' + (data.error || 'token required')); }
            if (r.status === 403) throw new ApiError(403, 'Refused (403): ' + (data.error || 'steering is disabled'));
            if (!r.ok) throw new ApiError(r.status, 'Failed (' + r.status + '): ' + (data.error || r.statusText));
            return data;
          });
        });
    });
  }

  // ---- pages --------------------------------------------------------------------------------------------------

  // shared budgets and verifications: shown only when the config has them
  var budgetBox = h('section', { id: 'budgets' });
  function renderBudgets(d) {
    clear(budgetBox);
    if (d.budgets.length) {
      append(budgetBox, [
        h('h2', null, 'Shared budgets'),
        h('table', { class: 'budgets', 'aria-label': 'Shared budgets' },
          h('thead', null, h('tr', null, h('th', null, 'Budget'), h('th', { class: 'num' }, 'Used'), h('th', { class: 'num' }, 'Usable'),
            h('th', { class: 'num' }, 'Limit'), h('th', null, 'Use'), h('th', null, 'By service'))),
          h('tbody', null, d.budgets.map(function (b) {
            var pct = b.percentOfUsable === undefined || b.percentOfUsable === null ? null : b.percentOfUsable;
            var fill = h('span', { class: 'fill' });
            fill.style.width = (pct === null ? 0 : Math.min(pct, 100)) + '%';
            return h('tr', { 'data-budget': b.budget, class: pct !== null && pct >= 100 ? 'binding' : '' },
              h('td', null, b.budget),
              h('td', { class: 'num' }, num(b.used, 0) + ' ' + b.unit),
              h('td', { class: 'num' }, b.usable === undefined ? '–' : num(b.usable, 0)),
              h('td', { class: 'num' }, b.limit === undefined ? h('span', { class: 'result-failed' }, 'unreadable: ' + b.error) : num(b.limit, 0)),
              h('td', null, h('span', { class: 'bar' }, fill), pct === null ? '' : ' ' + num(pct, 0) + '%'),
              h('td', null, b.byService.map(function (x) { return x.service + ' ' + x.replicas + ' × ' + x.perReplica; }).join(', ')));
          }))),
      ]);
    }
    if (d.verifications.length) {
      append(budgetBox, [h('h2', null, 'Verifications'), h('ul', { class: 'verifications' }, d.verifications.map(function (v) {
        return h('li', { 'data-service': v.service }, v.service + ': ',
          v.pending ? 'verifying ' + v.pending.from + ' → ' + v.pending.to + ' since ' + clock(v.pending.since) + (v.pending.dryRun ? ' (dry run)' : '') : '',
          v.coolOff ? h('span', { class: 'result-failed' }, 'scale-' + v.coolOff.direction + ' cooling off until ' + clock(v.coolOff.until) + ': ' + v.coolOff.reason) : '');
      }))]);
    }
  }

  function servicesPage() {
    var rows = h('tbody');
    var alerts = h('ul', { class: 'alerts', id: 'alerts' });
    append(clear(view), [
      h('h1', null, 'Services'),
      h('table', { class: 'services', 'aria-label': 'Services' },
        h('thead', null, h('tr', null,
          h('th', null, 'Service'), h('th', null, 'Status'), h('th', { class: 'num' }, 'Replicas'), h('th', { class: 'num' }, 'Range'),
          h('th', null, 'Utilization vs target'), h('th', null, 'Last decision'))),
        rows),
      h('h2', null, 'Active alerts'), alerts,
      budgetBox,
    ]);
    return {
      refresh: function () {
        getJSON('api/v1/budgets').then(renderBudgets, function () { clear(budgetBox); });
        return getJSON('api/v1/services').then(function (d) {
          clear(rows);
          if (!d.services.length) rows.appendChild(h('tr', { class: 'empty' }, h('td', { colspan: 6 }, 'No services in the config')));
          var all = [];
          d.services.forEach(function (s) {
            all = all.concat(s.alerts);
            var util = h('td', null, s.utilization.length ? s.utilization.map(utilRow) : h('span', { class: 'muted' }, 'no target'));
            setFills(util, s.utilization);
            rows.appendChild(h('tr', { 'data-service': s.service },
              h('td', null, h('a', { href: '#/services/' + enc(s.service) }, s.service), ' ', s.paused ? h('span', { class: 'tag paused' }, 'paused') : null),
              h('td', null, statusBadge(s.status, s.statusReasons)),
              h('td', { class: 'num replicas' }, num(s.currentReplicas, 0),
                s.desiredReplicas !== null && s.desiredReplicas !== s.currentReplicas ? ' → ' + s.desiredReplicas : '',
                h('span', { class: 'muted' }, ' (' + num(s.readyReplicas, 0) + ' ready)')),
              h('td', { class: 'num' }, s.minReplicas + '–' + s.maxReplicas),
              util,
              h('td', null, s.error ? h('span', { class: 'result-failed' }, s.error) : s.lastDecision ? s.lastDecision.reason : h('span', { class: 'muted' }, 'no decision yet'))));
          });
          clear(alerts);
          if (!all.length) alerts.appendChild(h('li', { class: 'muted' }, 'No active alerts'));
          all.forEach(function (a) { alerts.appendChild(alertItem(a, true)); });
        });
      },
    };
  }

  function alertsPage() {
    var list = h('ul', { class: 'alerts' });
    append(clear(view), [h('h1', null, 'Active alerts'),
      h('p', { class: 'muted' }, 'Derived from the last decisions and the last 10 minutes of events: pinned at max replicas, a metric source failing, flapping (3 or more direction reversals), failed scaling.'),
      list]);
    return {
      refresh: function () {
        return getJSON('api/v1/alerts').then(function (d) {
          clear(list);
          if (!d.alerts.length) list.appendChild(h('li', { class: 'muted' }, 'No active alerts'));
          d.alerts.forEach(function (a) { list.appendChild(alertItem(a, true)); });
        });
      },
    };
  }

  function reportsPage() {
    var body = h('tbody');
    var note = h('p', { class: 'muted' });
    append(clear(view), [h('h1', null, 'Reports'), note,
      h('table', { 'aria-label': 'Reports' },
        h('thead', null, h('tr', null, h('th', null, 'Report'), h('th', null, 'Kind'), h('th', null, 'Written'), h('th', null, 'Files'))),
        body)]);
    return {
      refresh: function () {
        return getJSON('api/v1/reports').then(function (d) {
          note.textContent = d.configured ? 'Simulation and load-test reports in the server\'s reports directory, newest first.' : d.message;
          clear(body);
          if (!d.reports.length) body.appendChild(h('tr', { class: 'empty' }, h('td', { colspan: 4 }, d.configured ? 'No reports yet' : 'No reports directory')));
          d.reports.forEach(function (r) {
            var html = r.files.filter(function (f) { return f.format === 'html'; })[0];
            body.appendChild(h('tr', { 'data-report': r.name },
              h('td', null, html ? h('a', { href: html.url, target: '_blank', rel: 'noopener' }, r.title) : r.title, h('div', { class: 'muted' }, r.name)),
              h('td', null, r.kind),
              h('td', { class: 'time' }, clock(r.modified)),
              h('td', null, r.files.map(function (f) {
                return [h('a', { href: f.url, target: '_blank', rel: 'noopener', 'aria-label': f.format.toUpperCase() + ' of ' + r.name }, f.format.toUpperCase()), ' '];
              }))));
          });
        });
      },
    };
  }

  function chartSpecs(tl) {
    var x = tl.t;
    var metrics = Object.keys(tl.values);
    var valueSeries = [];
    metrics.forEach(function (m) {
      var isPct = tl.targets[m] !== undefined && /cpu|memory/.test(m);
      var unit = isPct ? '%' : '';
      valueSeries.push({ label: m, values: tl.values[m], unit: unit, axis: isPct || metrics.length === 1 ? 'left' : 'right' });
      if (tl.targets[m] !== undefined) valueSeries.push({ label: m + ' target', values: x.map(function () { return tl.targets[m]; }), unit: unit, axis: isPct || metrics.length === 1 ? 'left' : 'right' });
    });
    var specs = [];
    if (valueSeries.length) specs.push({ title: 'Load: metric values', x: x, series: valueSeries });
    specs.push({ title: 'Replicas', x: x, series: [
      { label: 'current', values: tl.currentReplicas, step: true },
      { label: 'ready', values: tl.readyReplicas, step: true },
      { label: 'desired', values: tl.desiredReplicas, step: true },
    ] });
    specs.push({ title: 'Decisions: proposed by the metrics vs decided', x: x, series: [
      { label: 'proposed', values: tl.proposedReplicas, step: true },
      { label: 'decided (desired)', values: tl.desiredReplicas, step: true },
    ] });
    return specs;
  }

  function servicePage(name) {
    var base = 'api/v1/services/' + enc(name);
    var since = '15m';
    var plots = [];
    var plotKey = '';
    var firstPage = [];
    var olderDecisions = [];
    var nextBefore = null;
    var openDetails = {};
    var last = null;

    var resultBox = h('div', { id: 'steer-result', role: 'status', 'aria-live': 'polite' });
    var chartsBox = h('div', { id: 'charts' });
    var decisionsBody = h('tbody');
    var eventsBody = h('tbody');
    var onlyChanges = h('input', { type: 'checkbox', id: 'only-changes', checked: true, onchange: function () { olderDecisions = []; refresh(); } });
    var olderBtn = h('button', { type: 'button', id: 'older', onclick: loadOlder }, 'Older decisions');
    var scaleInput = h('input', { id: 'scale-replicas', type: 'number', min: 0, step: 1, required: true });
    var rollbackTo = h('input', { id: 'rollback-to', type: 'number', min: 1, step: 1, placeholder: 'last change' });

    function say(msg, ok) {
      resultBox.className = ok ? 'ok' : 'error';
      resultBox.textContent = msg;
    }
    function act(p, okText) {
      return p.then(function (r) {
        if (r === null) { say('Cancelled: nothing sent', true); return; }
        var w = r.warnings && r.warnings.length ? ' — ' + r.warnings.join('; ') : '';
        say(okText(r) + w, true);
        return refresh();
      }).catch(function (e) { say(e.message || String(e), false); });
    }
    function pause() { return act(steer(name, 'pause'), function (r) { return r.message; }); }
    function resume() { return act(steer(name, 'resume'), function (r) { return r.message; }); }
    function scale(e) {
      e.preventDefault();
      var n = Number(scaleInput.value);
      if (scaleInput.value === '' || !Number.isInteger(n) || n < 0) { say('Enter a whole number of replicas (0 or more)', false); return; }
      return act(steer(name, 'scale', { replicas: n }), function (r) { return r.message; });
    }
    function rollback(e) {
      e.preventDefault();
      var to = rollbackTo.value === '' ? null : Number(rollbackTo.value);
      if (to !== null && (!Number.isInteger(to) || to < 1)) { say('The event id is a whole number (see History below)', false); return; }
      return getJSON(base + '/rollback' + (to ? '?toEventId=' + to : '')).then(function (plan) {
        var body = h('div', null,
          h('p', null, 'Undo ', h('strong', null, '#' + plan.undoes.id + ' ' + plan.undoes.kind), ' at ' + clock(plan.undoes.time) + (plan.undoes.message ? ': ' + plan.undoes.message : '')),
          h('ul', null, plan.changes.map(function (c) { return h('li', null, c); })),
          plan.warnings.map(function (w) { return h('p', { class: 'muted' }, 'Note: ' + w); }),
          last && !last.paused ? h('p', { class: 'muted' }, 'The controller is not paused: its next sync may scale again. Pause first to hold the rollback.') : null);
        return confirmDialog('Roll back ' + name + '?', body, 'Roll back');
      }).then(function (ok) {
        if (!ok) { say('Rollback cancelled', true); return; }
        return act(steer(name, 'rollback', to ? { toEventId: to } : {}), function (r) { return r.message + ' (event #' + r.eventId + ')'; });
      }).catch(function (e2) { say(e2.message || String(e2), false); });
    }
    function loadOlder() {
      if (!nextBefore) return;
      olderBtn.disabled = true;
      getJSON(base + '/decisions?limit=50&before=' + nextBefore + (onlyChanges.checked ? '&changes=true' : '')).then(function (d) {
        olderDecisions = olderDecisions.concat(d.items);
        nextBefore = d.nextBefore;
        renderDecisions(null);
      }).catch(function (e) { say(e.message, false); }).then(function () { olderBtn.disabled = false; });
    }

    var sinceSel = h('select', { id: 'chart-since', 'aria-label': 'Chart time range', onchange: function () { since = sinceSel.value; refresh(); } },
      ['15m', '1h', '6h', '24h', '7d'].map(function (s) { return h('option', { value: s }, 'last ' + s); }));

    append(clear(view), [
      h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/' }, 'Services'), ' / ' + name),
      h('div', { class: 'svc-head' }, h('h1', null, name), h('span', { id: 'svc-status' }), h('span', { id: 'svc-paused' })),
      h('p', { class: 'reasons', id: 'status-reasons' }),
      h('dl', { class: 'cards' },
        h('div', null, h('dt', null, 'Current replicas'), h('dd', { id: 'current-replicas' }, '–')),
        h('div', null, h('dt', null, 'Desired'), h('dd', { id: 'desired-replicas' }, '–')),
        h('div', null, h('dt', null, 'Ready'), h('dd', { id: 'ready-replicas' }, '–')),
        h('div', null, h('dt', null, 'Range'), h('dd', { id: 'range' }, '–')),
        h('div', null, h('dt', null, 'Last sync'), h('dd', { id: 'updated' }, '–'))),
      h('div', { id: 'util' }),
      h('section', { class: 'steer', 'aria-labelledby': 'steer-title' },
        h('h2', { id: 'steer-title' }, 'Steer'),
        h('p', { id: 'steer-note', class: 'muted' }),
        h('div', { class: 'steer-row' },
          h('button', { type: 'button', id: 'btn-pause', 'aria-label': 'Pause autoscaling of ' + name, onclick: pause }, 'Pause'),
          h('button', { type: 'button', id: 'btn-resume', 'aria-label': 'Resume autoscaling of ' + name, onclick: resume }, 'Resume'),
          h('form', { id: 'scale-form', onsubmit: scale },
            h('div', null, h('label', { for: 'scale-replicas' }, 'Replicas'), scaleInput),
            h('button', { type: 'submit', id: 'btn-scale', 'aria-label': 'Scale ' + name + ' to the replicas entered' }, 'Scale')),
          h('form', { id: 'rollback-form', onsubmit: rollback },
            h('div', null, h('label', { for: 'rollback-to' }, 'Before event # (optional)'), rollbackTo),
            h('button', { type: 'submit', id: 'btn-rollback', 'aria-label': 'Roll back ' + name + ' to before its last change' }, 'Roll back…'))),
        resultBox),
      h('div', { class: 'charts-head' }, h('h2', null, 'Over time'), sinceSel),
      chartsBox,
      h('h2', null, 'Alerts'), h('ul', { class: 'alerts', id: 'svc-alerts' }),
      h('h2', null, 'Last decision'), h('div', { id: 'last-decision' }),
      h('div', { class: 'charts-head' }, h('h2', null, 'Decision log'), h('label', null, onlyChanges, ' only changes')),
      h('table', { id: 'decisions', 'aria-label': 'Decision log' },
        h('thead', null, h('tr', null, h('th', null, 'Time'), h('th', null, 'Action'), h('th', { class: 'num' }, 'Replicas'), h('th', null, 'Why'), h('th', null, 'Result'))),
        decisionsBody),
      h('div', { class: 'pager' }, olderBtn),
      h('h2', null, 'History'),
      h('table', { id: 'events', 'aria-label': 'History events' },
        h('thead', null, h('tr', null, h('th', { class: 'num' }, '#'), h('th', null, 'Time'), h('th', null, 'Kind'), h('th', { class: 'num' }, 'Replicas'), h('th', null, 'Message'), h('th', null, 'Result'))),
        eventsBody),
      h('h2', null, 'Policy'), h('div', { id: 'policy' }),
    ]);

    function renderDecisions(first) {
      if (first) firstPage = first;
      var seen = {};
      var items = firstPage.concat(olderDecisions).filter(function (d) { if (seen[d.id]) return false; seen[d.id] = true; return true; });
      clear(decisionsBody);
      if (!items.length) decisionsBody.appendChild(h('tr', { class: 'empty' }, h('td', { colspan: 5 }, onlyChanges.checked ? 'No changes decided in the last 24h' : 'No decisions in the last 24h')));
      items.forEach(function (d) {
        var details = h('details', { 'data-id': d.id, ontoggle: function () { openDetails[d.id] = details.open; } },
          h('summary', null, d.reason),
          h('ul', null,
            d.proposals.map(function (p) { return h('li', null, p.source + ' ' + p.name + ': ' + p.detail); }),
            d.errors.map(function (e) { return h('li', { class: 'result-failed' }, e); }),
            Object.keys(d.values).length ? h('li', null, 'values: ' + Object.keys(d.values).map(function (k) { return k + '=' + num(d.values[k]); }).join(', ')) : null));
        if (openDetails[d.id]) details.open = true;
        decisionsBody.appendChild(h('tr', null,
          h('td', { class: 'time' }, clock(d.time)),
          h('td', { class: 'act-' + d.action }, d.action || '–'),
          h('td', { class: 'num' }, num(d.fromReplicas, 0) + ' → ' + num(d.toReplicas, 0)),
          h('td', null, details),
          h('td', { class: 'result-' + d.result }, d.result)));
      });
      olderBtn.hidden = !nextBefore;
    }
    function renderCharts(tl) {
      if (tl.t.length < 2) {
        plots.forEach(function (p) { p.destroy(); });
        plots = [];
        plotKey = '';
        clear(chartsBox).appendChild(h('p', { class: 'placeholder' }, 'Not enough decisions recorded since ' + clock(tl.since) + ' to draw charts yet.'));
        return;
      }
      var specs = chartSpecs(tl);
      var key = JSON.stringify(specs.map(function (s) { return [s.title, s.series.map(function (x) { return x.label; })]; }));
      if (key === plotKey && plots.length === specs.length) {
        specs.forEach(function (s, i) { plots[i].setData([s.x].concat(s.series.map(function (x) { return x.values; }))); });
        return;
      }
      plots.forEach(function (p) { p.destroy(); });
      clear(chartsBox);
      plots = window.scalepilotCharts.render(chartsBox, specs);
      plotKey = key;
    }

    function refresh() {
      var q = onlyChanges.checked ? '&changes=true' : '';
      return Promise.all([
        getJSON(base),
        getJSON(base + '/timeline?since=' + since),
        getJSON(base + '/decisions?limit=50' + q),
        getJSON(base + '/events?limit=30'),
      ]).then(function (r) {
        var s = r[0];
        last = s;
        clear(byId('svc-status')).appendChild(statusBadge(s.status, s.statusReasons));
        clear(byId('svc-paused')).appendChild(s.paused ? h('span', { class: 'tag paused', id: 'paused-tag' }, 'paused') : h('span', { class: 'tag' }, 'autoscaling'));
        byId('status-reasons').textContent = s.error ? 'Last sync failed: ' + s.error : s.statusReasons.join(' · ');
        byId('current-replicas').textContent = num(s.currentReplicas, 0);
        byId('desired-replicas').textContent = num(s.desiredReplicas, 0);
        byId('ready-replicas').textContent = num(s.readyReplicas, 0);
        byId('range').textContent = s.minReplicas + '–' + s.maxReplicas;
        byId('updated').textContent = ago(s.updated);
        var util = clear(byId('util'));
        s.utilization.forEach(function (u) { util.appendChild(utilRow(u)); });
        setFills(util, s.utilization);
        byId('btn-pause').disabled = s.paused;
        byId('btn-resume').disabled = !s.paused;
        if (scaleInput.value === '' && document.activeElement !== scaleInput && s.currentReplicas !== null) scaleInput.placeholder = String(s.currentReplicas);
        byId('steer-note').textContent = server && !server.steering.enabled ? server.steering.reason : 'Pause holds the replica count while decisions are still made and logged. Scale and rollback act at once; pause first to keep them.';

        var al = clear(byId('svc-alerts'));
        if (!s.alerts.length) al.appendChild(h('li', { class: 'muted' }, 'No active alerts'));
        s.alerts.forEach(function (a) { al.appendChild(alertItem(a, false)); });

        var ld = clear(byId('last-decision'));
        if (s.decision) {
          ld.appendChild(h('p', null, h('strong', { class: 'act-' + s.decision.action }, s.decision.action), ' ', s.decision.reason, h('span', { class: 'muted' }, ' (' + s.decision.reasonCode + ', ' + clock(s.decision.time) + ')')));
          ld.appendChild(h('table', { 'aria-label': 'Proposals of the last decision' },
            h('thead', null, h('tr', null, h('th', null, 'Source'), h('th', null, 'Name'), h('th', { class: 'num' }, 'Replicas'), h('th', null, 'Detail'))),
            h('tbody', null, s.decision.proposals.map(function (p) {
              return h('tr', null, h('td', null, p.source), h('td', null, p.name), h('td', { class: 'num' }, num(p.replicas, 0)), h('td', null, p.detail));
            }))));
        } else {
          ld.appendChild(h('p', { class: 'muted' }, 'No decision yet'));
        }

        renderCharts(r[1]);
        if (!olderDecisions.length) nextBefore = r[2].nextBefore;
        renderDecisions(r[2].items);

        clear(eventsBody);
        if (!r[3].items.length) eventsBody.appendChild(h('tr', { class: 'empty' }, h('td', { colspan: 6 }, 'No events in the last 7 days')));
        r[3].items.forEach(function (e) {
          eventsBody.appendChild(h('tr', { 'data-kind': e.kind },
            h('td', { class: 'num' }, e.id),
            h('td', { class: 'time' }, clock(e.time)),
            h('td', null, e.kind),
            h('td', { class: 'num' }, e.fromReplicas !== null && e.toReplicas !== null ? e.fromReplicas + ' → ' + e.toReplicas : '–'),
            h('td', null, e.message || '', e.error ? h('div', { class: 'result-failed' }, e.error) : null),
            h('td', { class: 'result-' + e.result }, e.result)));
        });

        var pol = s.policy;
        var p = clear(byId('policy'));
        p.appendChild(h('p', null, 'Provider ' + pol.provider + ', sync every ' + pol.syncPeriodSeconds + 's, drain ' + pol.drainSeconds + 's, replicas ' + pol.minReplicas + '–' + pol.maxReplicas + '.'));
        if (pol.hpaMetrics.length) p.appendChild(h('p', null, 'HPA targets: ' + pol.hpaMetrics.map(function (m) { return m.name + ' ' + m.target; }).join(', ') + '.'));
        if (pol.rules.length) p.appendChild(h('ul', null, pol.rules.map(function (x) { return h('li', null, x.name + ': when ' + x.when + ' then ' + x.then + ' (' + x.severity + ')'); })));
        if (pol.queue) p.appendChild(h('p', null, 'Queue: ' + pol.queue.metric + ', ' + pol.queue.targetPerReplica + ' per replica.'));
      });
    }
    return { refresh: refresh, dispose: function () { plots.forEach(function (p) { p.destroy(); }); } };
  }

  // ---- routing and refresh ------------------------------------------------------------------------------------

  function route() {
    var hash = location.hash.replace(/^#\/?/, '');
    var parts = hash.split('/');
    if (page && page.dispose) page.dispose();
    var nav = 'services';
    if (parts[0] === 'services' && parts[1]) page = servicePage(decodeURIComponent(parts[1]));
    else if (parts[0] === 'alerts') { page = alertsPage(); nav = 'alerts'; }
    else if (parts[0] === 'reports') { page = reportsPage(); nav = 'reports'; }
    else page = servicesPage();
    Array.prototype.forEach.call(document.querySelectorAll('[data-nav]'), function (a) {
      a.classList.toggle('active', a.getAttribute('data-nav') === nav);
      if (a.getAttribute('data-nav') === nav) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
    });
    tick(true);
  }

  function tick(now) {
    var g = ++generation;
    clearTimeout(timer);
    var run = function () {
      if (g !== generation) return;
      if (document.hidden && !now) { timer = setTimeout(run, REFRESH_MS); return; }
      now = false;
      Promise.all([page.refresh(), getJSON('api/v1/alerts')]).then(function (r) {
        banner.hidden = true;
        var n = r[1].alerts.length;
        var c = byId('alert-count');
        c.hidden = n === 0;
        c.textContent = String(n);
        byId('refreshed').textContent = 'updated ' + new Date().toLocaleTimeString([], { hour12: false });
      }).catch(function (e) {
        if (g !== generation) return;
        banner.textContent = (e instanceof ApiError && e.status ? 'Server answered ' + e.status + ': ' : 'Cannot reach the scalepilot server: ') + e.message;
        banner.hidden = false;
      }).then(function () {
        if (g === generation) timer = setTimeout(run, REFRESH_MS);
      });
    };
    run();
  }

  getJSON('api/v1/server').then(function (s) {
    server = s;
    byId('mode').textContent = (s.readOnlyStore ? 'read-only store · ' : '') + (s.dryRun ? 'dry run · ' : '') + (s.steering.enabled ? '' : 'steering disabled');
  }).catch(function () { /* shown by the refresh banner */ }).then(function () {
    showToken();
    window.addEventListener('hashchange', route);
    route();
  });
})();
