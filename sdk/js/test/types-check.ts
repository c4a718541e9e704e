// Compiled by `npm run typecheck` (tsc --noEmit): the public types accept real usage and
// reject wrong usage (each @ts-expect-error must hit an error, or tsc fails).
import footfall, { Footfall, LoadOptions, Message, Status } from '../src/footfall.js';

const opts: LoadOptions = { writeKey: 'wk', host: 'https://c.example', autocapture: { clicks: false, searchDebounce: 500 } };
const ff: Footfall = footfall.load(opts);
ff.track('Product Viewed', { product_id: 'p1', price: 12.5 });
ff.page();
ff.page('Home');
ff.page({ section: 'x' });
ff.identify('u1', { plan: 'gold' });
ff.identify({ plan: 'gold' });
ff.alias('u2');
ff.group('org', { name: 'Acme' });
ff.productAdded({ product_id: 'p1', quantity: 2, currency: 'EUR' });
ff.orderCompleted({ order_id: 'o1', revenue: 20, products: [{ product_id: 'p1' }] });
ff.paymentFailed({ order_id: 'o1', decline_code: 'card_declined' });
ff.search('mug');
ff.optIn();
ff.optOut();
const p: Promise<boolean> = ff.flush();
const s: Status = ff.status();
const n: number = s.queued;
const m: Message | undefined = ff.track('x');
const sid: string | undefined = m?.context.sessionId;
const w: Footfall = window.footfall;
void [p, n, sid, w];

// @ts-expect-error writeKey is required
footfall.load({ host: 'x' });
// @ts-expect-error event name must be a string
ff.track(42);
// @ts-expect-error unknown autocapture switch
footfall.load({ writeKey: 'k', autocapture: { clickz: true } });
// @ts-expect-error flush() is a promise of boolean
const bad: Promise<string> = ff.flush();
void bad;
