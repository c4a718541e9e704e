// products.js -- most viewed / added / bought / abandoned products, revenue by product and
// category, search terms. Orders list their products in properties.products (an array the SQL
// JSON functions do not reach into), so bought counts and revenue per product are summed here
// from the orders of the range (up to 5,000 orders, said on the page when cut).
// Kept cheap on a big store: JSON is extracted only from orders (just their products/items) and,
// for product names, from the few products shown; "abandoned" is counted in SQL.
import { query, between, num, lit, UID } from '../api.js';
import { h, fill, fmtInt, fmtMoney, table } from '../dom.js';
import { barList } from '../chart.js';
import { panel, showError, loading } from './common.js';

const ORDER_CAP = 5000;

export default function products(root, ctx) {
  const { signal } = ctx;
  const w = between(ctx.range.from, ctx.range.to);
  const boxes = {};
  const box = (id, title) => (boxes[id] = h('div', { id: 'products-' + id }, loading())) && panel(title, boxes[id]);
  root.append(h('div', { class: 'grid2' },
    box('viewed', 'Most viewed'), box('added', 'Most added to cart'), box('bought', 'Most bought'), box('abandoned', 'Most abandoned (added, no order)'),
    box('category', 'Revenue by category'), box('search', 'Search terms')), box('revenue', 'Revenue by product'));
  const top = (rows, key) => rows.filter((r) => r[key] > 0).sort((a, b) => b[key] - a[key] || (a.id < b.id ? -1 : 1)).slice(0, 10)
    .map((r) => ({ id: r.id, label: r.name ? `${r.name} (${r.id})` : r.id, value: r[key] }));

  (async () => {
    try {
      const [p, orders, adds, search] = await Promise.all([
        query(`SELECT product_id AS id, any(category) AS category, countIf(event = 'product_viewed') AS views, countIf(event = 'product_added') AS adds FROM events WHERE ${w} AND product_id != '' AND event IN ('product_viewed', 'product_added') GROUP BY id ORDER BY views DESC LIMIT 1000`, { signal }),
        query(`SELECT revenue, currency, JSONExtractRaw(properties, 'products') AS products, JSONExtractRaw(properties, 'items') AS items FROM events WHERE ${w} AND event = 'order_completed' ORDER BY ts DESC LIMIT ${ORDER_CAP}`, { signal }),
        // people who added the product and completed no order in the range, per product
        query(`SELECT product_id AS id, uniqExact(${UID}) AS n FROM events WHERE ${w} AND event = 'product_added' AND product_id != '' AND ${UID} NOT IN (SELECT ${UID} FROM events WHERE ${w} AND event = 'order_completed') GROUP BY id ORDER BY n DESC, id LIMIT 1000`, { signal }),
        query(`SELECT search_term, count() AS searches, uniqExact(${UID}) AS people FROM events WHERE ${w} AND search_term != '' GROUP BY search_term ORDER BY searches DESC, search_term LIMIT 20`, { signal }),
      ]);
      const byId = new Map();
      const get = (id) => byId.get(id) || (byId.set(id, { id, name: '', category: '', views: 0, adds: 0, bought: 0, abandoned: 0, revenue: new Map() }), byId.get(id));
      for (const r of p.data) Object.assign(get(r.id), { category: r.category, views: num(r.views), adds: num(r.adds) });
      const cats = new Map(); // "category\u0000currency" -> amount
      const arr = (raw) => {
        try {
          const v = raw ? JSON.parse(raw) : null;
          return Array.isArray(v) ? v : null;
        } catch (e) {
          return null;
        }
      };
      for (const o of orders.data) {
        const items = arr(o.products) || arr(o.items) || [];
        for (const it of items) {
          if (!it || typeof it !== 'object') continue;
          const id = String(it.product_id ?? it.sku ?? it.item_id ?? '');
          if (!id) continue;
          const q = Number.isFinite(Number(it.quantity)) ? Number(it.quantity) : 1;
          const r = get(id);
          if (!r.name && typeof it.name === 'string') r.name = it.name;
          if (!r.category && typeof it.category === 'string') r.category = it.category;
          r.bought += q;
          const amount = (Number(it.price) || 0) * q;
          const cur = o.currency || '';
          r.revenue.set(cur, (r.revenue.get(cur) || 0) + amount);
          const ck = (r.category || '(none)') + '\u0000' + cur;
          cats.set(ck, (cats.get(ck) || 0) + amount);
        }
      }
      for (const a of adds.data) get(a.id).abandoned = num(a.n);
      const rows = [...byId.values()];
      // names of the products shown (orders' items carry most; the rest from their events'
      // properties.name: the last day of the range first, then the whole range)
      const shown = new Set();
      for (const k of ['views', 'adds', 'bought', 'abandoned']) for (const x of top(rows, k)) shown.add(x.id);
      for (const span of [86400000, Infinity]) {
        const missing = [...shown].filter((id) => !get(id).name);
        if (!missing.length) break;
        const from = Math.max(ctx.range.from, ctx.range.to - span);
        const nm = await query(`SELECT product_id AS id, any(JSONExtractString(properties, 'name')) AS name FROM events WHERE ${between(from, ctx.range.to)} AND event IN ('product_viewed', 'product_added') AND product_id IN (${missing.map(lit).join(', ')}) GROUP BY id`, { signal });
        for (const x of nm.data) if (x.name) get(x.id).name = x.name;
        if (from <= ctx.range.from) break;
      }
      fill(boxes.viewed, barList(top(rows, 'views'), { fmt: fmtInt }));
      fill(boxes.added, barList(top(rows, 'adds'), { fmt: fmtInt }));
      fill(boxes.bought, barList(top(rows, 'bought'), { fmt: fmtInt }), orders.data.length >= ORDER_CAP ? h('p', { class: 'muted' }, `From the latest ${fmtInt(ORDER_CAP)} orders.`) : null);
      fill(boxes.abandoned, barList(top(rows, 'abandoned'), { fmt: fmtInt }), h('p', { class: 'muted' }, 'People who added the product and completed no order in the range.'));
      const catRows = [...cats.entries()].map(([k, v]) => ({ label: k.replace('\u0000', ' · '), value: v })).sort((a, b) => b.value - a.value).slice(0, 12);
      fill(boxes.category, barList(catRows, { fmt: (v) => fmtMoney(v) }));
      fill(boxes.search, table(search.data, [
        { key: 'search_term', label: 'Term' },
        { key: 'searches', label: 'Searches', fmt: fmtInt, cls: 'num' },
        { key: 'people', label: 'People', fmt: fmtInt, cls: 'num' },
      ], { empty: 'No searches in this range.' }));
      const revRows = rows.filter((r) => r.revenue.size).map((r) => {
        const [cur, amt] = [...r.revenue.entries()].sort((a, b) => b[1] - a[1])[0];
        return { id: r.id, name: r.name, category: r.category, bought: r.bought, amount: amt, currency: cur };
      }).sort((a, b) => b.amount - a.amount).slice(0, 25);
      fill(boxes.revenue, table(revRows, [
        { key: 'id', label: 'Product' },
        { key: 'name', label: 'Name' },
        { key: 'category', label: 'Category' },
        { key: 'bought', label: 'Units', fmt: fmtInt, cls: 'num' },
        { key: 'amount', label: 'Revenue', fmt: (v, r) => fmtMoney(v, r.currency), cls: 'num' },
      ], { empty: 'No orders in this range.' }));
    } catch (e) {
      for (const b of Object.values(boxes)) showError(b, e);
    }
  })();
}
