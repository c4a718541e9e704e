/*
 * WHAT: small helpers shared by the tracker core and autocapture: ids, URL masking,
 *       card-number scrubbing, sensitive-field detection, the storage wrapper.
 * DESIGN: everything takes the window-like object `w` explicitly (no globals), so the unit
 *       tests can run the real code against a simulated browser.
 */

/* Field names/ids/autocomplete values whose content is never read. */
export const SENSITIVE =
  /pass|pwd|secret|token|auth|card|^cc|cc[-_ ]?(num|exp|csc|cvv|name|type)|cvc|cvv|csc|ccv|security.?code|iban|ssn|social|pin$|otp|expir/i;

/* 13-19 digits, optionally separated by spaces or dashes: a possible card number. */
const PAN = /\d(?:[ -]?\d){12,18}/g;

/** Replace anything that looks like a card number. */
export const scrub = (s) => String(s).replace(PAN, '[REDACTED]');

/** RFC 4122 v4 UUID: crypto.randomUUID, else getRandomValues, else Math.random. */
export function uuid(w) {
  const c = w.crypto;
  try {
    return c.randomUUID();
  } catch (e) {
    /* not a secure context, or an old browser */
  }
  const b = new Uint8Array(16);
  try {
    c.getRandomValues(b);
  } catch (e) {
    for (let i = 0; i < 16; i++) b[i] = (Math.random() * 256) | 0;
  }
  b[6] = (b[6] & 15) | 64;
  b[8] = (b[8] & 63) | 128;
  let h = '';
  for (let i = 0; i < 16; i++) h += (i == 4 || i == 6 || i == 8 || i == 10 ? '-' : '') + (b[i] + 256).toString(16).slice(1);
  return h;
}

/**
 * Mask query-string values whose parameter name is in `names` (lower case). The rest of the
 * URL is kept byte for byte. Parameters after a '#' (hash routers) are masked too.
 */
export function maskUrl(u, names) {
  return u
    ? String(u).replace(/([?&])([^=&#]+)=([^&#]*)/g, (all, sep, k, v) => {
        let key = k;
        try {
          key = decodeURIComponent(k);
        } catch (e) {
          /* keep it raw */
        }
        return names.indexOf(key.toLowerCase()) >= 0 ? sep + k + '=masked' : all;
      })
    : u;
}

/** True when an input's content must never be read (by type, name, id or autocomplete). */
export function sensitive(el) {
  const t = (el.type || '').toLowerCase();
  return (
    t == 'password' ||
    t == 'hidden' ||
    t == 'file' ||
    SENSITIVE.test([el.getAttribute('name'), el.id, el.getAttribute('autocomplete')].join(' ')) ||
    !!el.closest('[data-ff-ignore],.ff-ignore')
  );
}

/**
 * Key/value storage on localStorage under the "ff_" prefix, or in memory only (cookieless
 * mode, or when localStorage is unusable). Values are JSON. A write that fails (quota) is
 * kept in memory so the page keeps working.
 */
export function storage(w, persistent) {
  const mem = {};
  let ls = null;
  try {
    /* no test write: nothing may touch storage before capture is allowed */
    if (persistent) ls = w.localStorage || null;
  } catch (e) {
    /* SecurityError (storage blocked) */
  }
  return {
    ls: () => !!ls,
    get(k) {
      try {
        const v = k in mem ? mem[k] : ls ? ls.getItem('ff_' + k) : null;
        return v == null ? null : JSON.parse(v);
      } catch (e) {
        return null;
      }
    },
    set(k, v) {
      const s = JSON.stringify(v);
      try {
        if (ls) {
          ls.setItem('ff_' + k, s);
          delete mem[k];
          return;
        }
      } catch (e) {
        /* quota: fall through to memory */
      }
      mem[k] = s;
    },
    del(k) {
      delete mem[k];
      try {
        if (ls) ls.removeItem('ff_' + k);
      } catch (e) {
        /* ignore */
      }
    },
  };
}
