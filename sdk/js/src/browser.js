/*
 * WHAT: the script-tag build (IIFE): defines window.footfall.
 *   <script src="https://footfall.example/sdk/footfall.js"></script>
 *   <script>footfall.load({writeKey: 'wk_...'})</script>
 * The collector host defaults to the origin the script was loaded from. With a
 * data-write-key attribute on the script tag, load() is called at once:
 *   <script src=".../sdk/footfall.js" data-write-key="wk_..." [data-host="..."]></script>
 * Calls queued by a stub (window.footfall = [['track', 'x', {...}], ...]) are replayed.
 */
import { create } from './core.js';

const s = document.currentScript;
let host = '';
try {
  host = new URL(s.src).origin;
} catch (e) {
  /* inline or no currentScript: same origin */
}
const footfall = create(window, { host });
const stub = window.footfall;
window.footfall = footfall;
const ds = s && s.dataset;
if (ds && ds.writeKey) footfall.load({ writeKey: ds.writeKey, host: ds.host || host });
if (Array.isArray(stub)) stub.forEach((c) => footfall[c[0]] && footfall[c[0]].apply(footfall, c.slice(1)));
