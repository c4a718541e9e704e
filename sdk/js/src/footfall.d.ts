// Type definitions for the Footfall browser tracker (footfall.js).
// Script tag: `window.footfall`; ES module: `import footfall from 'footfall-js'`.

export type Properties = Record<string, unknown>;

export interface AutocaptureOptions {
  /** Page views, including SPA navigation (pushState/replaceState/popstate/hashchange). Default true. */
  pageview?: boolean;
  /** "Element Clicked" on links and buttons (selector + visible text, never input values). Default true. */
  clicks?: boolean;
  /** "Page Scrolled" at 25/50/75/100 % depth. Default true. */
  scroll?: boolean;
  /** "Time On Page" (visible seconds) on hide, leave and SPA navigation. Default true. */
  time?: boolean;
  /** "Products Searched" on search form submits and debounced search inputs. Default true. */
  search?: boolean;
  /** Debounce for search inputs, ms. Default 1000. */
  searchDebounce?: number;
  /** "Signed In" / "Signed Up" on login/register form submits. Default true. */
  forms?: boolean;
  /** Include non-sensitive field values of login/register forms. Default true. */
  formValues?: boolean;
}

export interface LoadOptions {
  /** Write key (`footfall keys create --kind write`). Required. */
  writeKey: string;
  /** Collector origin, e.g. "https://footfall.example". Script tag: the script's origin; ESM: same origin. */
  host?: string;
  /** Send when this many events are pending (and cut batches at this count). Default 20. */
  flushAt?: number;
  /** Send this many ms after the first pending event. Default 2000. */
  flushInterval?: number;
  /** Cut batches at this many bytes. Default 30000. */
  maxBatchBytes?: number;
  /** Events larger than this are dropped with a warning. Default 32000. */
  maxEventBytes?: number;
  /** Bound of the stored queue; the oldest events are dropped (and counted) beyond it. Default 500. */
  maxQueue?: number;
  /** Failed attempts after which flush() settles false (retrying goes on). Default 8. */
  maxRetries?: number;
  /** Session inactivity timeout, ms. Default 30 minutes. */
  sessionTimeout?: number;
  /** Keep ids and the queue in memory only: nothing in localStorage or cookies. Default false. */
  cookieless?: boolean;
  /** Capture nothing until optIn(). Default false. */
  requireConsent?: boolean;
  /** Honour Do Not Track and Global Privacy Control (capture nothing unless optIn()). Default true. */
  honorDNT?: boolean;
  /** Query-string parameters whose values are replaced by "masked" (lower-case names). */
  maskParams?: string[];
  /** Autocapture switches; false turns it all off. Default true (everything on). */
  autocapture?: boolean | AutocaptureOptions;
  /** Use this anonymous id instead of a generated one. */
  anonymousId?: string;
  /** Called with every message as it is queued (for debugging panels). */
  onEvent?: (message: Message) => void;
}

export interface Message {
  type: 'track' | 'page' | 'identify' | 'alias' | 'group';
  messageId: string;
  timestamp: string;
  anonymousId: string;
  userId?: string;
  event?: string;
  name?: string;
  properties?: Properties;
  traits?: Properties;
  previousId?: string;
  groupId?: string;
  context: {
    page: { url: string; path: string; referrer: string; title: string; search: string };
    userAgent: string;
    locale: string;
    library: { name: 'footfall.js'; version: string };
    sessionId: string;
  };
}

export interface Status {
  loaded: boolean;
  capturing: boolean;
  queued: number;
  sent: number;
  dropped: number;
  retries: number;
  anonymousId: string | null;
  userId: string | null;
  sessionId: string | null;
  version: string;
}

export interface Product extends Properties {
  product_id?: string;
  sku?: string;
  name?: string;
  category?: string;
  brand?: string;
  variant?: string;
  price?: number;
  quantity?: number;
  currency?: string;
  cart_id?: string;
}

export interface Order extends Properties {
  order_id?: string;
  checkout_id?: string;
  total?: number;
  revenue?: number;
  shipping?: number;
  tax?: number;
  discount?: number;
  coupon?: string;
  currency?: string;
  products?: Product[];
}

export interface Footfall {
  readonly VERSION: string;
  load(options: LoadOptions): Footfall;
  track(event: string, properties?: Properties): Message | undefined;
  page(name?: string, properties?: Properties): Message | undefined;
  page(properties: Properties): Message | undefined;
  identify(userId: string, traits?: Properties): Message | undefined;
  identify(traits: Properties): Message | undefined;
  alias(userId: string, previousId?: string): Message | undefined;
  group(groupId: string, traits?: Properties): Message | undefined;
  reset(): void;
  /** Settles when everything queued so far was delivered (true) or dropped/failed/offline (false). */
  flush(): Promise<boolean>;
  optIn(): void;
  optOut(): void;
  status(): Status;
  /** "Products Searched" {query}. */
  search(query: string, properties?: Properties): Message | undefined;
  productListViewed(properties?: Properties): Message | undefined;
  productClicked(product?: Product): Message | undefined;
  productViewed(product?: Product): Message | undefined;
  productAdded(product?: Product): Message | undefined;
  productRemoved(product?: Product): Message | undefined;
  cartViewed(cart?: Properties & { cart_id?: string; products?: Product[] }): Message | undefined;
  checkoutStarted(order?: Order): Message | undefined;
  paymentInfoEntered(properties?: Properties & { checkout_id?: string; order_id?: string; payment_method?: string }): Message | undefined;
  orderCompleted(order?: Order): Message | undefined;
  /** "Payment Failed" {order_id, decline_code, ...}. */
  paymentFailed(properties?: Order & { decline_code?: string; payment_method?: string }): Message | undefined;
}

declare const footfall: Footfall;
export default footfall;
export { footfall };

declare global {
  interface Window {
    footfall: Footfall;
  }
}
