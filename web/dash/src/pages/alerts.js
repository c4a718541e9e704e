// alerts.js -- GET /v1/alerts: {"firing":[...],"resolved":[...],"rules":[...],"webhooks":{...}}.
// Rendered field by field as text; an older server without the endpoint gets a plain note.
import { getJson } from '../api.js';
import { h, fill, fmtTime, show } from '../dom.js';
import { panel, showError, loading, every } from './common.js';

const TIME_KEYS = ['at_ms', 'fired_at', 'fired_at_ms', 'resolved_at', 'resolved_at_ms', 'since_ms', 'first_at_ms', 'last_at_ms'];

function val(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function alertCard(a, zone) {
  const times = TIME_KEYS.filter((k) => typeof a[k] === 'number').map((k) => h('span', { class: 'muted' }, `${k.replace(/_ms$/, '')} ${fmtTime(a[k], zone.name)} ${zone.label} · `));
  return h('li', { class: 'alert ' + (a.severity === 'critical' ? 'critical' : 'warning') + (a.state === 'resolved' ? ' resolved' : '') },
    h('div', { class: 'alert-head' },
      h('span', { class: 'sev' }, show(a.severity || 'alert')), ' ', h('strong', null, show(a.rule || a.name || '(rule)')),
      a.key && a.key !== 'global' ? h('span', null, ' · ', h('code', null, show(a.key))) : null),
    a.summary ? h('p', null, show(a.summary)) : null,
    h('p', { class: 'small' }, times,
      a.value !== undefined ? h('span', { class: 'muted' }, `value ${val(a.value)}`) : null,
      a.threshold !== undefined ? h('span', { class: 'muted' }, ` / threshold ${val(a.threshold)}`) : null),
    a.evidence ? h('details', null, h('summary', null, 'evidence'), h('pre', null, val(a.evidence))) : null);
}

export default function alerts(root, ctx) {
  const box = h('div', { id: 'alerts' }, loading());
  root.append(panel('Alerts', box));
  every(5000, async () => {
    let d;
    try {
      d = await getJson('/v1/alerts', { signal: ctx.signal });
    } catch (e) {
      if (e.status === 404) return fill(box, h('p', { class: 'muted', id: 'alerts-unavailable' }, 'This server has no alerting (GET /v1/alerts answered 404). Alerts come with the stream processor.'));
      if (e.status === 503) return fill(box, h('p', { class: 'muted' }, 'Alerting is not running (503): ', show(e.message)));
      return showError(box, e);
    }
    const firing = Array.isArray(d.firing) ? d.firing : [];
    const resolved = Array.isArray(d.resolved) ? d.resolved : [];
    // rules: an array, or {"rules":[...], ...} (the rules engine's own document)
    const rules = Array.isArray(d.rules) ? d.rules : d.rules && Array.isArray(d.rules.rules) ? d.rules.rules : [];
    fill(box,
      h('h3', null, `Firing (${firing.length})`),
      firing.length ? h('ul', { class: 'alerts', id: 'alerts-firing' }, firing.map((a) => alertCard(a, ctx.zone))) : h('p', { class: 'muted' }, 'Nothing is firing.'),
      h('h3', null, `Resolved (${resolved.length})`),
      resolved.length ? h('ul', { class: 'alerts', id: 'alerts-resolved' }, resolved.slice(-50).reverse().map((a) => alertCard(a, ctx.zone))) : h('p', { class: 'muted' }, 'No resolved alerts.'),
      h('h3', null, `Rules (${rules.length})`),
      rules.length ? h('ul', { class: 'rules' }, rules.map((r) => h('li', null, typeof r === 'object' && r ? [h('strong', null, show(r.name || r.rule || '')), ' ', h('code', null, show(r.spec || r.expr || val(r)))] : show(r)))) : h('p', { class: 'muted' }, 'No rules configured.'),
      d.webhooks ? h('p', { class: 'muted small' }, 'Webhooks: ', val(d.webhooks)) : null);
  }, ctx.signal);
}
