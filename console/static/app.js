// The Ballast risk desk dashboard: plain DOM, no framework. Every value from the server is put on the
// page as text (textContent, never innerHTML), so a strategy named `<img src=x onerror=alert(1)>` shows as
// those characters. Live: one EventSource per page (server-sent events fed by Postgres NOTIFY); an event
// names what changed and only that part is re-read. Charts: uPlot, served by this app (no CDN).
'use strict';

const API = '/api/v1';
const state = { me: null, csrf: null, events: null, timers: [], chart: null, timeline: null, timelineMinutes: 60 };

// ---- DOM helpers: text only ------------------------------------------------------------------------------
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    // Through the CSSOM: the Content-Security-Policy (style-src 'self') blocks style attributes, not this.
    else if (k === 'style') node.style.cssText = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat())
    if (c !== undefined && c !== null && c !== false) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}
const $ = (id) => document.getElementById(id);
const fill = (node, ...children) => {
  node.replaceChildren();
  for (const c of children.flat())
    if (c !== undefined && c !== null && c !== false) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
};

const money = (x) =>
  x == null
    ? '–'
    : Math.abs(x) >= 1e6
      ? `$${(x / 1e6).toFixed(2)}M`
      : Math.abs(x) >= 1e3
        ? `$${(x / 1e3).toFixed(1)}k`
        : `$${x.toFixed(0)}`;
const pct = (x) => (x == null ? '–' : `${(x * 100).toFixed(1)} %`);
const num = (field, x) =>
  x == null ? '–' : /Notional|capital/i.test(field) ? money(x) : /Vol|Weight|riskBudget|Collar/i.test(field) ? pct(x) : x.toFixed(3);
const time = (iso) => (iso ? new Date(iso).toLocaleString() : '–');
const ago = (seconds) => (seconds == null ? '–' : seconds < 90 ? `${Math.round(seconds)} s` : `${Math.round(seconds / 60)} min`);

// ---- API ---------------------------------------------------------------------------------------------------
async function api(path, options = {}) {
  const headers = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.method && options.method !== 'GET') headers['x-csrf-token'] = state.csrf || '';
  const res = await fetch(API + path, {
    method: options.method || 'GET',
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  const body = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const err = new Error((body && body.detail) || `${res.status} ${res.statusText}`);
    err.status = res.status;
    throw err;
  }
  return body;
}

/** Shows the outcome of an action in the section's message line. */
async function act(messageNode, fn, done) {
  fill(messageNode, '…');
  messageNode.className = 'muted';
  try {
    await fn();
    fill(messageNode, done);
  } catch (err) {
    messageNode.className = 'error';
    fill(messageNode, err.message);
  }
}

// ---- routing ---------------------------------------------------------------------------------------------------
async function route() {
  for (const t of state.timers.splice(0)) clearInterval(t);
  if (state.events) state.events.close();
  state.events = null;
  try {
    const me = await api('/session');
    state.me = me;
    state.csrf = me.csrfToken;
  } catch (err) {
    if (err.status === 401) return showLogin();
    throw err;
  }
  fill(
    $('who'),
    `${state.me.name} (${state.me.roles.length ? state.me.roles.join(', ') : 'viewer'}) `,
    el('button', { onclick: logout }, 'Sign out'),
  );
  const m = location.hash.match(/^#\/p\/(.+)$/);
  if (m) return showPortfolio(decodeURIComponent(m[1]));
  return showOverview();
}

function showLogin() {
  fill($('who'));
  const msg = el('p', { class: 'error', id: 'login-message' });
  const form = el(
    'form',
    { class: 'login', id: 'login' },
    el('h2', {}, 'Sign in'),
    el('label', {}, 'User', el('input', { name: 'username', autocomplete: 'username', required: true })),
    el('label', {}, 'Password', el('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    el('p', {}, el('button', { type: 'submit' }, 'Sign in')),
    msg,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    try {
      await api('/session', { method: 'POST', body: { username: data.get('username'), password: data.get('password') } });
      await route();
    } catch (err) {
      fill(msg, err.message);
    }
  });
  fill($('main'), section('Ballast', form));
}

async function logout() {
  await api('/session', { method: 'DELETE' }).catch(() => undefined);
  await route();
}

function section(title, ...children) {
  return el('section', {}, el('h2', {}, title), ...children);
}

function listen(portfolioId, handlers) {
  const es = new EventSource(`${API}/events${portfolioId ? `?portfolioId=${encodeURIComponent(portfolioId)}` : ''}`);
  state.events = es;
  es.addEventListener('open', () => ($('live').className = 'live on'));
  es.addEventListener('error', () => ($('live').className = 'live off'));
  for (const [topic, fn] of Object.entries(handlers)) es.addEventListener(topic, () => fn());
}

// ---- overview ----------------------------------------------------------------------------------------------------
async function showOverview() {
  const body = el('tbody');
  fill(
    $('main'),
    section(
      'Portfolios',
      el(
        'table',
        {},
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            ['Portfolio', 'Trading', 'Regime', 'Budget', 'Heartbeat'].map((h) => el('th', {}, h)),
          ),
        ),
        body,
      ),
    ),
  );
  const load = async () => {
    const { items } = await api('/portfolios');
    fill(
      body,
      items.map((p) =>
        el(
          'tr',
          {},
          el('td', {}, el('a', { href: `#/p/${encodeURIComponent(p.id)}` }, p.id)),
          el('td', {}, el('span', { class: `state ${p.tradingState}` }, p.tradingState)),
          el('td', {}, p.regime || '–'),
          el('td', {}, p.budgetVersion ? `v${p.budgetVersion}` : 'none'),
          el('td', {}, ago(p.heartbeatAgeSeconds)),
        ),
      ),
    );
  };
  await load();
  listen(undefined, { budget: load, control: load, resync: load });
}

// ---- one portfolio -----------------------------------------------------------------------------------------------
async function showPortfolio(id) {
  const base = `/portfolios/${encodeURIComponent(id)}`;
  const parts = {
    control: el('div', { id: 'control' }),
    // Budget staleness per gate replica, beside the control bar (only gates run with --ha report it).
    replicas: el('div', { id: 'replica-staleness', hidden: true }),
    budget: el('div', { id: 'budget' }),
    gauges: el('div', { id: 'gauges' }),
    chart: el('div', { id: 'chart' }),
    timeline: el('div', { id: 'timeline' }),
    risk: el('div', { id: 'risk-contributions' }),
    metrics: el('div', { id: 'success-metrics' }),
    approvals: el('div', { id: 'approvals' }),
    overrides: el('div', { id: 'overrides' }),
    decisions: el('div', { id: 'decisions' }),
    alerts: el('div', { id: 'alerts' }),
  };
  fill(
    $('main'),
    el('h1', { id: 'portfolio-title' }, id),
    section('Controls', parts.control),
    parts.replicas,
    section('Budget', parts.budget),
    section('Regime timeline', parts.timeline),
    el('div', { class: 'grid' }, section('Utilization', parts.gauges), section('Budget vs actual risk contribution', parts.risk)),
    el(
      'div',
      { class: 'grid' },
      section('Success metrics (24 h)', parts.metrics),
      section('Gross limit by version and regime', parts.chart),
    ),
    section('Pending approvals', parts.approvals),
    section('Overrides', parts.overrides),
    el('div', { class: 'grid' }, section('Gate decisions', parts.decisions), section('Alerts', parts.alerts)),
  );
  // A part someone is typing in (a reason, the override form) is not redrawn under their hands: it is
  // marked stale and redrawn when they are done.
  const safe = (part, fn) => {
    const run = () => {
      if (busy(part)) {
        part.dataset.stale = '1';
        return Promise.resolve();
      }
      delete part.dataset.stale;
      return fn().catch((err) => console.error(err));
    };
    const later = () => setTimeout(() => part.dataset.stale && run(), 0);
    part.addEventListener('confirm-closed', later);
    part.addEventListener('focusout', later);
    return run;
  };
  const loaders = {
    control: safe(parts.control, () => renderControl(parts.control, base)),
    replicas: safe(parts.replicas, () => renderReplicas(parts.replicas, base)),
    budget: safe(parts.budget, () => renderBudget(parts.budget, base)),
    gauges: safe(parts.gauges, () => renderGauges(parts.gauges, base)),
    chart: safe(parts.chart, () => renderChart(parts.chart, base)),
    timeline: safe(parts.timeline, () => renderTimeline(parts.timeline, base)),
    risk: safe(parts.risk, () => renderRiskContributions(parts.risk, base)),
    metrics: safe(parts.metrics, () => renderSuccessMetrics(parts.metrics, base)),
    approvals: safe(parts.approvals, () => renderApprovals(parts.approvals, base)),
    overrides: safe(parts.overrides, () => renderOverrides(parts.overrides, base, () => loaders.gauges())),
    decisions: safe(parts.decisions, () => renderDecisions(parts.decisions, base)),
    alerts: safe(parts.alerts, () => renderAlerts(parts.alerts, base)),
  };
  await Promise.all(Object.values(loaders).map((l) => l()));
  const all = () => Object.values(loaders).forEach((l) => l());
  listen(id, {
    budget: () =>
      [
        loaders.budget,
        loaders.gauges,
        loaders.chart,
        loaders.control,
        loaders.replicas,
        loaders.approvals,
        loaders.timeline,
        loaders.risk,
      ].forEach((l) => l()),
    control: () => [loaders.control, loaders.overrides, loaders.gauges, loaders.timeline].forEach((l) => l()),
    activity: () =>
      [loaders.approvals, loaders.alerts, loaders.control, loaders.replicas, loaders.chart, loaders.timeline, loaders.metrics].forEach(
        (l) => l(),
      ),
    decisions: () => loaders.decisions(),
    // A loop cycle (coalesced by the server): new regime probabilities, fills since. The 24-hour success
    // metrics are averages over a day of rows: they follow budgets and activity, not every bar.
    cycle: () => [loaders.timeline, loaders.risk].forEach((l) => l()),
    resync: all,
  });
}

const can = (role) => state.me && state.me.roles.includes(role);

/** Someone is typing in this part (a reason, the override form): do not redraw it under their hands. */
const busy = (part) =>
  part.querySelector('input.reason') !== null ||
  (part.contains(document.activeElement) && /INPUT|SELECT/.test(document.activeElement.tagName));

/** After a render's reads: false (and marked stale, redrawn when they are done) if someone started typing meanwhile. */
function stillFree(part) {
  if (!busy(part)) return true;
  part.dataset.stale = '1';
  return false;
}

/** A button that opens a reason field and a confirm button; `run(reason)` does the change. */
function confirmAction(label, cls, question, run, message) {
  const holder = el('span');
  const close = () => {
    fill(holder, button);
    holder.dispatchEvent(new CustomEvent('confirm-closed', { bubbles: true }));
  };
  const open = () => {
    const reason = el('input', { placeholder: 'reason (required)', class: 'reason', size: 24 });
    const confirmBtn = el('button', { class: `${cls} confirm` }, `Confirm: ${question}`);
    confirmBtn.addEventListener('click', () => {
      if (!reason.value.trim()) return fill(message, 'A reason is required.');
      act(message, () => run(reason.value.trim()), `${label}: done.`).then(close);
    });
    fill(holder, reason, confirmBtn, el('button', { onclick: close }, 'Cancel'));
    reason.focus();
  };
  const button = el('button', { class: cls, onclick: open }, label);
  fill(holder, button);
  return holder;
}

/**
 * Each strategy or instrument an operator has restricted, its state in colour (who, why and when on
 * hover); an operator may resume one, or halt / reduce another.
 */
function scopedStates(items, operator, base, msg) {
  const set = (state, scope) => (reason) => api(`${base}/trading-state`, { method: 'PUT', body: { state, reason, scope } });
  const body = (scope) => (scope.kind === 'strategy' ? { strategy: scope.name } : { instrument: scope.name });
  const restricted = items
    .filter((s) => s.scope.kind !== 'portfolio' && s.state !== 'ACTIVE')
    .map((s) =>
      el(
        'span',
        { class: 'scope-state', title: `“${s.reason || ''}” by ${s.changedBy || '?'} at ${time(s.changedAt)}` },
        `${s.scope.kind} ${s.scope.name}: `,
        el('span', { class: `state ${s.state}`, dataset: { scope: `${s.scope.kind}:${s.scope.name}` } }, s.state),
        operator ? confirmAction('Resume', '', `resume ${s.scope.kind} ${s.scope.name}`, set('ACTIVE', body(s.scope)), msg) : null,
      ),
    );
  if (!operator) return restricted;
  const kind = el('select', { 'aria-label': 'scope kind' }, el('option', {}, 'strategy'), el('option', {}, 'instrument'));
  const name = el('input', { placeholder: 'strategy or instrument', size: 14, 'aria-label': 'scope name' });
  const scoped = (state) => (reason) => {
    if (!name.value.trim()) return Promise.reject(new Error('Name the strategy or instrument first.'));
    return set(state, body({ kind: kind.value, name: name.value.trim() }))(reason);
  };
  const form = el(
    'span',
    { class: 'scope-form' },
    kind,
    name,
    confirmAction('Halt scope', 'danger', 'halt this scope', scoped('HALTED'), msg),
    confirmAction('Reduce scope', 'amber', 'reduce only this scope', scoped('REDUCING'), msg),
  );
  return [...restricted, form];
}

async function renderControl(node, base) {
  const [p, loop, scopes] = await Promise.all([
    api(base),
    api(`${base}/loop`).catch(() => null),
    api(`${base}/trading-state`).catch(() => ({ items: [] })),
  ]);
  if (!stillFree(node)) return;
  const msg = el('span', { class: 'muted', id: 'control-message' });
  const setState = (s) => (reason) => api(`${base}/trading-state`, { method: 'PUT', body: { state: s, reason } });
  const operator = can('operator');
  fill(
    node,
    el(
      'div',
      { class: 'controls' },
      el('span', {}, 'Trading: ', el('span', { class: `state ${p.tradingState}`, id: 'trading-state' }, p.tradingState)),
      p.stateReason ? el('span', { class: 'muted' }, `“${p.stateReason}” by ${p.stateChangedBy || '?'}`) : null,
      operator && p.tradingState !== 'HALTED' ? confirmAction('Kill switch', 'danger', 'halt all trading', setState('HALTED'), msg) : null,
      operator && p.tradingState !== 'REDUCING' ? confirmAction('Reduce only', 'amber', 'reduce only', setState('REDUCING'), msg) : null,
      operator && p.tradingState !== 'ACTIVE' ? confirmAction('Resume trading', '', 'resume trading', setState('ACTIVE'), msg) : null,
      scopedStates(scopes.items, operator, base, msg),
      el('span', {}, 'Loop: ', el('strong', { id: 'loop-status' }, loop ? (loop.paused ? 'paused' : 'running') : 'not running')),
      el('span', {}, 'Regime: ', el('strong', { id: 'regime' }, (loop && loop.regime) || p.regime || '–')),
      loop && loop.regimeProbabilities
        ? el(
            'span',
            { class: 'muted' },
            Object.entries(loop.regimeProbabilities)
              .map(([k, v]) => `${k} ${(v * 100).toFixed(0)}%`)
              .join(' · '),
          )
        : null,
      el('span', { class: 'muted' }, `heartbeat ${ago(p.heartbeatAgeSeconds)} ago`),
      operator && loop
        ? confirmAction(
            loop.paused ? 'Resume loop' : 'Pause loop',
            '',
            loop.paused ? 'resume the loop' : 'pause the loop',
            (reason) => api(`${base}/loop/${loop.paused ? 'resume' : 'pause'}`, { method: 'POST', body: { reason } }),
            msg,
          )
        : null,
      operator
        ? confirmAction(
            'Manual rebalance',
            '',
            'start a manual rebalance',
            (reason) => api(`${base}/rebalances`, { method: 'POST', body: { reason } }),
            msg,
          )
        : null,
      msg,
    ),
  );
}

/** One line per gate replica: the budget version it serves (amber when behind), heartbeat (red when dead), who decides. */
async function renderReplicas(node, base) {
  const { items } = await api(`${base}/gate-replicas`).catch(() => ({ items: [] }));
  node.hidden = items.length === 0;
  const line = (r) => {
    const cls = !r.alive ? 'state HALTED' : r.versionsBehind ? 'state REDUCING' : 'state ACTIVE';
    const served = r.budgetVersion == null ? 'no budget' : `v${r.budgetVersion}`;
    const behind = r.versionsBehind ? `${r.versionsBehind} behind` : r.budgetVersion == null ? '' : 'current';
    return el(
      'span',
      { class: 'replica', 'data-replica': r.replica },
      el('span', { class: cls }, `${r.replica}: ${served}${behind ? ` (${behind})` : ''}`),
      el(
        'span',
        { class: 'muted' },
        ` heartbeat ${ago(r.heartbeatAgeSeconds)} ago${r.alive ? '' : ', down'}${r.decides ? ', decides' : ''}`,
      ),
    );
  };
  fill(node, el('div', { class: 'controls' }, el('span', {}, 'Gate replicas: '), items.map(line)));
}

function changesTable(changes, limit) {
  const rows = changes
    .filter((c) => c.field !== 'targetWeight' && c.field !== 'targetNotional' && c.field !== 'riskBudget')
    .slice(0, limit);
  if (!rows.length) return el('p', { class: 'muted' }, 'No limit moved.');
  return el(
    'table',
    { class: 'changes' },
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        ['Scope', 'Limit', 'Before', 'After', 'Change'].map((h) => el('th', {}, h)),
      ),
    ),
    el(
      'tbody',
      {},
      rows.map((c) =>
        el(
          'tr',
          {},
          el('td', {}, c.scope),
          el('td', {}, c.field),
          el('td', {}, num(c.field, c.before)),
          el('td', {}, num(c.field, c.after)),
          el(
            'td',
            { class: c.change > 0 ? 'up' : 'down' },
            c.relative == null ? (c.before == null ? 'new' : 'removed') : `${c.relative > 0 ? '+' : ''}${(c.relative * 100).toFixed(1)} %`,
          ),
        ),
      ),
    ),
  );
}

async function renderBudget(node, base) {
  let b;
  try {
    b = await api(`${base}/budget`);
  } catch (err) {
    return fill(node, el('p', { class: 'muted' }, err.message));
  }
  fill(
    node,
    el(
      'p',
      { id: 'budget-header' },
      // When this version reached the page (the browser test measures commit → page latency from it).
      el('strong', { id: 'budget-version', dataset: { renderedAt: String(Date.now()) } }, `v${b.version}`),
      ` committed ${time(b.committedAt)} · regime ${b.regime} · gross limit `,
      el('strong', { id: 'gross-limit' }, money(b.limits.maxGrossNotional)),
      ` · forecast vol ${pct(b.forecastVol)} (target ${pct(b.volTarget)})`,
      b.reason ? ` · why: ${b.reason}` : '',
      b.approver ? ` · approved by ${b.approver}` : '',
    ),
    el('p', { class: 'muted' }, b.predecessor ? `Against v${b.predecessor.version}:` : 'First version.'),
    changesTable(b.changes, 14),
    el(
      'details',
      {},
      el('summary', {}, `Strategies (${b.strategies.length})`),
      el(
        'table',
        {},
        el(
          'tbody',
          {},
          b.strategies.map((s) =>
            el(
              'tr',
              { class: 'strategy-row' },
              el('td', {}, s.strategy),
              el('td', {}, pct(s.riskBudget)),
              el('td', {}, money(s.maxGrossNotional)),
            ),
          ),
        ),
      ),
    ),
  );
}

/**
 * A limit's gauge: what is held, and (a lighter bar behind it) the worst case the gate checks when
 * working orders add to it; coloured by the worse of the two.
 */
function gauge(label, line, worst) {
  const u = line.utilization;
  const w = worst && worst.used > line.used ? worst.utilization : null;
  const shown = w == null ? u : Math.max(u || 0, w);
  const level = shown == null ? '' : shown >= 1 ? 'red' : shown >= 0.8 ? 'amber' : 'ok';
  const width = (x) => `width:${Math.min(100, (x || 0) * 100).toFixed(1)}%`;
  return el(
    'div',
    {
      class: `gauge ${level}`,
      dataset: {
        scope: line.scope,
        utilization: u == null ? '' : u.toFixed(4),
        limit: String(line.limit),
        worst: w == null ? '' : w.toFixed(4),
      },
    },
    el(
      'div',
      { class: 'label' },
      el('span', {}, label, line.overridden ? ' (override)' : ''),
      el(
        'span',
        {},
        `${money(line.used)} / ${money(line.limit)} · ${u == null ? '–' : pct(u)}${w == null ? '' : ` · worst case ${pct(w)}`}`,
      ),
    ),
    el(
      'div',
      { class: 'bar' },
      w == null ? null : el('div', { class: 'fill worst', style: width(w) }),
      el('div', { class: 'fill', style: width(u) }),
    ),
  );
}

async function renderGauges(node, base) {
  let u;
  try {
    u = await api(`${base}/utilization`);
  } catch (err) {
    return fill(node, el('p', { class: 'muted' }, err.message));
  }
  fill(
    node,
    u.workingOrders
      ? el('p', { class: 'muted', id: 'working-orders' }, `${u.workingOrders} working orders at the gates: worst case shown behind`)
      : null,
    gauge('Gross', u.gross, u.worstCase && u.worstCase.gross),
    gauge('Net', u.net, u.worstCase && u.worstCase.net),
    u.strategies.map((s, i) => gauge(`Strategy ${s.scope}`, s, u.worstCase && u.worstCase.strategies[i])),
    heatmap(u.assets),
    el(
      'details',
      {},
      el('summary', {}, 'Per asset'),
      u.assets.map((a, i) => gauge(a.scope, a, u.worstCase && u.worstCase.assets[i])),
    ),
  );
}

/** Strategy × asset: each held pair's share of its position limit, coloured like the gauges. */
function heatmap(assets) {
  const strategies = [...new Set(assets.map((a) => a.strategy))];
  const names = [...new Set(assets.map((a) => a.asset))].sort();
  const cell = new Map(assets.map((a) => [`${a.strategy}\u0000${a.asset}`, a]));
  const level = (x) => (x == null ? 'none' : x >= 1 ? 'red' : x >= 0.8 ? 'amber' : 'ok');
  return el(
    'details',
    { open: names.length <= 40, id: 'heatmap' },
    el('summary', {}, `Strategy × asset (${strategies.length} × ${names.length})`),
    el(
      'div',
      { class: 'heatmap-scroll' },
      el(
        'table',
        { class: 'heatmap' },
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            el('th', {}, ''),
            names.map((n) => el('th', {}, n)),
          ),
        ),
        el(
          'tbody',
          {},
          strategies.map((s) =>
            el(
              'tr',
              {},
              el('th', {}, s),
              names.map((n) => {
                const a = cell.get(`${s}\u0000${n}`);
                return el(
                  'td',
                  {
                    class: `hm ${a ? level(a.utilization) : 'none'}`,
                    title: a ? `${s} / ${n}: ${money(a.used)} of ${money(a.limit)}` : '',
                  },
                  a && a.utilization != null ? `${Math.round(a.utilization * 100)}` : '',
                );
              }),
            ),
          ),
        ),
      ),
    ),
  );
}

async function renderChart(node, base) {
  const { items } = await api(`${base}/budget/versions?limit=200`);
  const versions = items.slice().reverse();
  if (!versions.length || typeof uPlot === 'undefined') return fill(node, el('p', { class: 'muted' }, 'No versions yet.'));
  const xs = versions.map((v) => Date.parse(v.committedAt) / 1000);
  const gross = versions.map((v) => v.grossLimit);
  const crisis = versions.map((v) => (/crisis|bear|stress/i.test(v.regime) ? v.grossLimit : null));
  const opts = {
    width: Math.max(300, node.clientWidth || 500),
    height: 220,
    series: [
      {},
      { label: 'gross limit', stroke: '#2563eb', value: (_u, v) => money(v) },
      { label: 'in crisis regime', stroke: '#c62828', points: { show: true }, paths: () => null },
    ],
    axes: [{}, { values: (_u, vals) => vals.map(money), size: 70 }],
  };
  if (state.chart) state.chart.destroy();
  node.replaceChildren();
  state.chart = new uPlot(opts, [xs, gross, crisis], node);
}

// ---- regime timeline ------------------------------------------------------------------------------------------
const REGIME_COLOURS = ['#1a7f37', '#b7791f', '#c62828', '#7c3aed', '#0e7490'];
/** A regime's colour: turbulent-sounding names red, the rest by their order calm → turbulent. */
function regimeColour(regimes, name) {
  if (/crisis|bear|stress|turbulent|panic/i.test(name)) return '#c62828';
  return REGIME_COLOURS[regimes.indexOf(name) % REGIME_COLOURS.length];
}

/**
 * Filtered regime probabilities (lines, uPlot) over the window, with regime bands, a marker at each
 * committed budget version and a band where an override was in force. Bands and markers are elements
 * over the plot (positioned from uPlot's scales), so they carry text and can be inspected.
 */
async function renderTimeline(node, base) {
  const t = await api(`${base}/regimes/timeline?windowMinutes=${state.timelineMinutes}`);
  if (typeof uPlot === 'undefined') return fill(node, el('p', { class: 'muted' }, 'Charts did not load.'));
  const from = Date.parse(t.from) / 1000;
  const to = Date.parse(t.to) / 1000;
  const xs = t.probabilities.at.map((a) => Date.parse(a) / 1000);
  const probabilityRegimes = t.regimes.filter((r) => t.probabilities.byRegime[r]);
  const data = xs.length
    ? [xs, ...probabilityRegimes.map((r) => t.probabilities.byRegime[r])]
    : [[from, to], ...probabilityRegimes.map(() => [null, null])];
  // data-points / data-rendered-at: what the browser test reads to see a live redraw.
  const plot = el('div', { class: 'timeline-plot', dataset: { points: String(xs.length), renderedAt: String(Date.now()) } });
  const windows = [15, 60, 360, 1440].map((m) =>
    el(
      'button',
      {
        class: m === state.timelineMinutes ? 'window on' : 'window',
        onclick: () => {
          state.timelineMinutes = m;
          renderTimeline(node, base).catch((err) => console.error(err));
        },
      },
      m < 60 ? `${m} min` : `${m / 60} h`,
    ),
  );
  fill(
    node,
    el(
      'p',
      { class: 'timeline-head' },
      windows,
      el(
        'span',
        { class: 'muted' },
        ` ${t.versions.length} version(s) committed, ${t.overrides.length} override(s) in force, ${Math.max(0, t.bands.length - 1)} regime switch(es)`,
      ),
    ),
    plot,
    xs.length ? null : el('p', { class: 'muted', id: 'no-probabilities' }, 'No regime readings recorded in this window.'),
    timelineLegend(t),
  );
  const opts = {
    width: Math.max(320, node.clientWidth - 20 || 800),
    height: 200,
    scales: { x: { time: true, range: () => [from, to] }, y: { range: () => [0, 1] } },
    series: [
      {},
      ...probabilityRegimes.map((r) => ({
        label: `P(${r})`,
        stroke: regimeColour(t.regimes, r),
        width: 2,
        value: (_u, v) => (v == null ? '–' : `${(v * 100).toFixed(0)} %`),
      })),
    ],
    axes: [{}, { values: (_u, vals) => vals.map((v) => `${Math.round(v * 100)} %`), size: 50 }],
    hooks: { draw: [(u) => drawTimelineOverlays(u, t)] },
  };
  if (state.timeline) state.timeline.destroy();
  state.timeline = new uPlot(opts, data, plot);
}

/** Regime bands (behind), override bands (a strip at the top) and version markers over the plot area. */
function drawTimelineOverlays(u, t) {
  const layer = el('div', { class: 'timeline-overlays' });
  const x = (iso) => u.valToPos(Date.parse(iso) / 1000, 'x');
  const span = (a, b) => `left:${x(a).toFixed(1)}px;width:${Math.max(1, x(b) - x(a)).toFixed(1)}px`;
  for (const b of t.bands)
    layer.append(
      el('div', {
        class: 'regime-band',
        dataset: { regime: b.regime },
        style: `${span(b.from, b.to)};background:${regimeColour(t.regimes, b.regime)}`,
        title: `${b.regime}: ${time(b.from)} – ${time(b.to)}`,
      }),
    );
  t.overrides.forEach((o, i) =>
    layer.append(
      el('div', {
        class: `override-band ${o.ended}`,
        dataset: { overrideId: String(o.id) },
        style: `${span(o.from, o.to)};top:${2 + (i % 3) * 9}px`,
        title: `override ${o.field} ${money(o.value)} (${o.scope}) by ${o.approver}: ${o.reason}`,
      }),
    ),
  );
  for (const v of t.versions)
    layer.append(
      el(
        'div',
        {
          class: 'version-marker',
          dataset: { version: String(v.version) },
          style: `left:${x(v.committedAt).toFixed(1)}px`,
          title: `v${v.version} committed ${time(v.committedAt)} · ${v.regime}${v.reason ? ` · ${v.reason}` : ''}`,
        },
        el('span', {}, `v${v.version}`),
      ),
    );
  const old = u.over.querySelector('.timeline-overlays');
  if (old) old.replaceWith(layer);
  else u.over.append(layer);
}

function timelineLegend(t) {
  return el(
    'details',
    { id: 'timeline-legend' },
    el('summary', {}, 'Regimes, versions and overrides in this window'),
    el(
      'ul',
      {},
      t.bands.map((b) => el('li', { class: 'legend-band' }, el('strong', {}, b.regime), ` ${time(b.from)} – ${time(b.to)}`)),
      t.versions.map((v) =>
        el(
          'li',
          { class: 'legend-version' },
          `v${v.version} committed ${time(v.committedAt)} (${v.regime})${v.reason ? `: ${v.reason}` : ''}`,
        ),
      ),
      t.overrides.map((o) =>
        el(
          'li',
          { class: 'legend-override' },
          `override ${o.field} ${money(o.value)} on ${o.scope} by ${o.approver} (${o.reason}) ${time(o.from)} – ${time(o.to)}, ${o.ended}`,
        ),
      ),
    ),
  );
}

// ---- budget vs actual risk contribution ---------------------------------------------------------------------------------
async function renderRiskContributions(node, base) {
  let r;
  try {
    r = await api(`${base}/risk-contributions`);
  } catch (err) {
    return fill(node, el('p', { class: 'muted' }, err.message));
  }
  const top = Math.max(0.01, ...r.strategies.map((s) => Math.max(s.budget, s.actual || 0)));
  const bar = (cls, share) => el('div', { class: `rc-bar ${cls}`, style: `width:${((Math.max(0, share || 0) / top) * 100).toFixed(1)}%` });
  fill(
    node,
    el(
      'p',
      { class: 'muted' },
      r.bookVol == null
        ? r.note
        : `Book ex-ante vol ${pct(r.bookVol)} of capital (budget forecast ${pct(r.forecastVol)}, target ${pct(r.volTarget)}) · v${r.budgetVersion}`,
    ),
    el(
      'div',
      { class: 'rc-chart' },
      r.strategies.map((s) => {
        const over = s.actual != null && s.actual > s.budget + 0.05;
        return el(
          'div',
          {
            class: `rc-row${over ? ' over' : ''}`,
            dataset: { strategy: s.strategy, budget: s.budget.toFixed(4), actual: s.actual == null ? '' : s.actual.toFixed(4) },
          },
          el('div', { class: 'rc-name' }, s.strategy),
          el('div', { class: 'rc-bars' }, bar('budget', s.budget), bar('actual', s.actual)),
          el('div', { class: 'rc-figures' }, `budget ${pct(s.budget)} · actual ${s.actual == null ? '–' : pct(s.actual)}`),
        );
      }),
    ),
    el(
      'p',
      { class: 'muted rc-key' },
      el('span', { class: 'key budget' }),
      ' budgeted share of risk ',
      el('span', { class: 'key actual' }),
      ' share of the held book’s risk',
    ),
  );
}

// ---- success metrics -------------------------------------------------------------------------------------------------
async function renderSuccessMetrics(node, base) {
  const { summary: m } = await api(`${base}/metrics?windowHours=24`);
  const ms = (x) => (x == null ? '–' : x < 1000 ? `${Math.round(x)} ms` : `${(x / 1000).toFixed(1)} s`);
  const rows = [
    ['Risk utilization (avg)', pct(m.riskUtilization.total)],
    ...Object.entries(m.riskUtilization.byStrategy).map(([s, v]) => [`  strategy ${s}`, pct(v)]),
    ['Gross utilization (avg)', pct(m.grossUtilization)],
    [
      'Realized vs target vol',
      `${pct(m.realizedVsTargetVol.bookRealized)} vs ${pct(m.realizedVsTargetVol.target)} (forecast ${pct(m.realizedVsTargetVol.bookForecast)})`,
    ],
    ['Return per unit of risk', m.returnPerRisk == null ? '–' : m.returnPerRisk.toFixed(2)],
    ['Regime response (median / max)', `${ms(m.regimeResponseMs.median)} / ${ms(m.regimeResponseMs.max)} over ${m.regimeResponseMs.count}`],
    [
      'Approval latency (median / max)',
      `${ms(m.approvalLatencyMs.median)} / ${ms(m.approvalLatencyMs.max)} over ${m.approvalLatencyMs.count}`,
    ],
    ['Overrides', `${m.overrides.count} (${m.overrides.perDay.toFixed(1)} a day)`],
  ];
  fill(
    node,
    el(
      'table',
      { class: 'metrics' },
      el(
        'tbody',
        {},
        rows.map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', {}, v))),
      ),
    ),
  );
}

/** Why a change was proposed: each trigger that fired, its reading against its threshold, and what it saw. */
function triggersTable(triggers) {
  const fired = triggers.filter((t) => t.fired);
  if (!fired.length) return el('p', { class: 'muted' }, 'No trigger fired (a manual or scheduled proposal).');
  const reading = (v) => (v == null ? '–' : typeof v === 'number' ? (Math.abs(v) < 10 ? v.toFixed(4) : v.toFixed(0)) : String(v));
  return el(
    'table',
    { class: 'triggers' },
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        ['Trigger', 'Reading', 'Threshold', 'What it saw'].map((h) => el('th', {}, h)),
      ),
    ),
    el(
      'tbody',
      {},
      fired.map((t) =>
        el(
          'tr',
          { class: 'trigger', dataset: { kind: t.kind } },
          el('td', {}, t.kind),
          el('td', {}, reading(t.value)),
          el('td', {}, reading(t.threshold)),
          el('td', {}, t.detail || ''),
        ),
      ),
    ),
  );
}

async function renderApprovals(node, base) {
  const { items } = await api(`${base}/recommendations?limit=20`);
  if (!stillFree(node)) return;
  const pending = items.filter((r) => r.status === 'PENDING');
  if (!pending.length)
    return fill(node, el('p', { class: 'muted', id: 'no-pending' }, 'Nothing waits for approval.'), recentDecisions(items));
  fill(
    node,
    pending.map((r) => {
      const msg = el('p', { class: 'muted' });
      const countdown = el('span', { class: 'countdown', dataset: { until: r.expiresAt || '' } });
      const decide = (kind) => (reason) =>
        api(`${base}/recommendations/${encodeURIComponent(r.id)}/${kind}`, { method: 'POST', body: { reason } });
      return el(
        'div',
        { class: 'card pending', dataset: { id: r.id } },
        el(
          'p',
          {},
          el('strong', {}, r.reason),
          ` · ${r.addsRisk ? 'adds risk' : 'reduces risk'} · proposed ${time(r.createdAt)} · expires in `,
          countdown,
        ),
        triggersTable(r.triggers || []),
        changesTable(r.changes || [], 10),
        can('approver')
          ? el(
              'div',
              { class: 'controls' },
              confirmAction('Approve', '', `approve ${r.id}`, decide('approve'), msg),
              confirmAction('Reject', 'danger', `reject ${r.id}`, decide('reject'), msg),
            )
          : null,
        msg,
      );
    }),
    recentDecisions(items),
  );
  tickCountdowns();
}

function recentDecisions(items) {
  const decided = items.filter((r) => r.status !== 'PENDING').slice(0, 5);
  if (!decided.length) return null;
  return el(
    'details',
    {},
    el('summary', {}, 'Recent recommendations'),
    el(
      'ul',
      {},
      decided.map((r) =>
        el('li', {}, `${time(r.createdAt)} ${r.status} ${r.reason}${r.committedVersion ? ` → v${r.committedVersion}` : ''}`),
      ),
    ),
  );
}

async function renderOverrides(node, base, onExpire) {
  const { active, history } = await api(`${base}/overrides`);
  if (!stillFree(node)) return;
  const msg = el('p', { class: 'muted', id: 'override-message' });
  const form = el(
    'form',
    { class: 'inline', id: 'override-form' },
    el(
      'label',
      {},
      'Field',
      el(
        'select',
        { name: 'field' },
        ['maxGrossNotional', 'maxNetNotional', 'maxPositionNotional', 'maxOrderNotional'].map((f) => el('option', { value: f }, f)),
      ),
    ),
    el('label', {}, 'Value ($)', el('input', { name: 'value', type: 'number', min: 0, step: 'any', required: true })),
    el('label', {}, 'Strategy', el('input', { name: 'strategy', placeholder: 'all' })),
    el('label', {}, 'Asset', el('input', { name: 'asset', placeholder: 'all' })),
    el('label', {}, 'Reason', el('input', { name: 'reason', required: true })),
    el('label', {}, 'Requested by', el('input', { name: 'requestedBy', required: true, placeholder: 'not you: four eyes' })),
    el(
      'label',
      {},
      'Expires in (min)',
      el('input', { name: 'minutes', type: 'number', min: 0.05, step: 'any', value: 60, required: true }),
    ),
    el('button', { type: 'submit' }, 'Create override'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const d = new FormData(form);
    const body = {
      field: d.get('field'),
      value: Number(d.get('value')),
      reason: String(d.get('reason')),
      requestedBy: String(d.get('requestedBy')),
      expiresAt: new Date(Date.now() + Number(d.get('minutes')) * 60_000).toISOString(),
    };
    if (d.get('strategy')) body.strategy = String(d.get('strategy'));
    if (d.get('asset')) body.asset = String(d.get('asset'));
    act(msg, () => api(`${base}/overrides`, { method: 'POST', body }), 'Override created.');
  });
  fill(
    node,
    can('approver') ? form : el('p', { class: 'muted' }, 'Overrides need the approver role.'),
    msg,
    el(
      'table',
      { id: 'active-overrides' },
      el(
        'tbody',
        {},
        active.map((o) => {
          const revokeMsg = el('span', { class: 'muted' });
          return el(
            'tr',
            { class: 'override', dataset: { id: String(o.id) } },
            el('td', {}, [o.strategy, o.asset].filter(Boolean).join('/') || 'portfolio'),
            el('td', {}, o.field),
            el('td', {}, money(o.value)),
            el('td', {}, o.reason),
            el('td', {}, o.approver),
            el('td', {}, 'ends in ', el('span', { class: 'countdown', dataset: { until: o.expiresAt, refresh: 'overrides' } })),
            el(
              'td',
              {},
              can('approver')
                ? confirmAction(
                    'Revoke',
                    '',
                    'revoke',
                    (reason) => api(`${base}/overrides/${o.id}/revoke`, { method: 'POST', body: { reason } }),
                    revokeMsg,
                  )
                : null,
              revokeMsg,
            ),
          );
        }),
      ),
    ),
    active.length ? null : el('p', { class: 'muted', id: 'no-overrides' }, 'No override in force.'),
    history.length
      ? el(
          'details',
          {},
          el('summary', {}, `History (${history.length})`),
          el(
            'ul',
            {},
            history
              .slice(0, 20)
              .map((o) =>
                el(
                  'li',
                  {},
                  `${o.field} ${money(o.value)} by ${o.approver}: ${o.reason} (${o.revokedAt ? 'revoked' : 'expired'} ${time(o.revokedAt || o.expiresAt)})`,
                ),
              ),
          ),
        )
      : null,
  );
  state.onOverrideExpired = () => renderOverrides(node, base, onExpire).then(onExpire);
  tickCountdowns();
}

async function renderDecisions(node, base) {
  const [{ items }, s] = await Promise.all([api(`${base}/decisions?limit=15`), api(`${base}/decisions/summary?windowMinutes=15`)]);
  const reasons = Object.entries(s.denialsByReason);
  fill(
    node,
    el(
      'p',
      { id: 'decision-summary' },
      `Last 15 min: ${s.total} decisions, ${s.denied} denied (${s.total ? ((s.denied / s.total) * 100).toFixed(1) : 0} %) · p50 ${s.latencyUs.p50 == null ? '–' : Math.round(s.latencyUs.p50)} µs · p99 ${s.latencyUs.p99 == null ? '–' : Math.round(s.latencyUs.p99)} µs`,
    ),
    reasons.length
      ? el(
          'p',
          { id: 'denials' },
          'Denial rate by reason: ',
          reasons.map(([r, n]) => `${r} ${n} (${pct(s.total ? n / s.total : 0)})`).join(' · '),
        )
      : null,
    el(
      'table',
      { id: 'decision-stream' },
      el(
        'tbody',
        {},
        items.map((d) =>
          el(
            'tr',
            { class: `decision ${d.decision}` },
            el('td', {}, new Date(d.decidedAt).toLocaleTimeString()),
            el('td', {}, d.decision),
            el('td', {}, `${d.side} ${d.quantity} ${d.instrument}`),
            el('td', {}, d.strategy),
            el('td', {}, d.reasons.join(', ')),
          ),
        ),
      ),
    ),
  );
}

async function renderAlerts(node, base) {
  const { items } = await api(`${base}/alerts?limit=15`);
  if (!items.length) return fill(node, el('p', { class: 'muted' }, 'No alerts.'));
  fill(
    node,
    el(
      'ul',
      { id: 'alert-list' },
      items.map((a) => el('li', { class: `sev-${a.severity}` }, `${time(a.createdAt)} [${a.severity}] ${a.message}`)),
    ),
  );
}

/** Countdowns tick on the local clock; an override that reaches zero is re-read once (it falls away). */
function tickCountdowns() {
  if (state.countdownTimer) return tick();
  state.countdownTimer = setInterval(tick, 250);
  tick();
}

function tick() {
  {
    let expired = false;
    for (const c of document.querySelectorAll('.countdown')) {
      const until = Date.parse(c.dataset.until);
      if (Number.isNaN(until)) {
        c.textContent = '–';
        continue;
      }
      const left = Math.max(0, (until - Date.now()) / 1000);
      c.textContent =
        left >= 3600
          ? `${Math.floor(left / 3600)} h ${Math.floor((left % 3600) / 60)} min`
          : left >= 60
            ? `${Math.floor(left / 60)} min ${Math.floor(left % 60)} s`
            : `${Math.ceil(left)} s`;
      if (left === 0 && c.dataset.refresh === 'overrides' && !c.dataset.done) {
        c.dataset.done = '1';
        expired = true;
      }
    }
    if (expired && state.onOverrideExpired) setTimeout(state.onOverrideExpired, 300);
  }
}

window.addEventListener('hashchange', () => route().catch((err) => console.error(err)));
route().catch((err) => fill($('main'), el('p', { class: 'error' }, err.message)));
