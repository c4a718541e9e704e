// send_events.js -- drives a running footfall server with the real
// @segment/analytics-node client, the way a shop's backend would.
//
// Usage: FF_HOST=http://127.0.0.1:PORT FF_WRITE_KEY=... node send_events.js
// Prints one JSON line on stdout:
//   {"version":..., "sent":[events exactly as the client put them on the wire],
//    "delivered":[messageIds whose callback reported success],
//    "requests":[{status, n, auth}], "errors":[...]}
// Exits non-zero only when the script itself breaks; delivery problems are
// reported in the JSON for the Python test to judge.
'use strict'

const { Analytics } = require('@segment/analytics-node')
const pkg = require('@segment/analytics-node/package.json')

const host = process.env.FF_HOST
const writeKey = process.env.FF_WRITE_KEY
if (!host || !writeKey) {
  console.error('FF_HOST and FF_WRITE_KEY are required')
  process.exit(2)
}
const tag = process.env.FF_TAG || String(Date.now())

const analytics = new Analytics({
  writeKey,
  host,
  path: '/v1/batch',
  flushAt: 3,
  flushInterval: 200,
  maxRetries: 2,
  httpRequestTimeout: 10000,
})

const sent = new Map() // messageId -> event as first put on the wire
const requests = []
const errors = []
const delivered = []

analytics.on('http_request', (req) => {
  const body = JSON.parse(req.body)
  for (const e of body.batch) if (!sent.has(e.messageId)) sent.set(e.messageId, e)
  requests.push({
    n: body.batch.length,
    auth: String(req.headers.Authorization || '').split(' ')[0],
    bodyWriteKey: body.writeKey === writeKey,
    sentAt: body.sentAt,
  })
})
analytics.on('http_response', (res) => {
  const r = requests.find((x) => x.status === undefined)
  if (r) r.status = res.status
})
analytics.on('error', (e) => errors.push(`${e.code}: ${e.reason && (e.reason.message || e.reason)}`))

const cb = (err, ctx) => {
  if (err) errors.push(`callback: ${err && (err.message || err)}`)
  else delivered.push(ctx.event.messageId)
}

const user = `node-user-${tag}`
const anon = `node-anon-${tag}`

analytics.identify({ userId: user, anonymousId: anon, traits: { plan: 'gold', country: 'DE', logins: 3 } }, cb)
analytics.page({
  userId: user,
  name: 'Product Detail',
  category: 'Shop',
  properties: { url: 'https://shop.example/p/sku-1', referrer: 'https://search.example/?q=shoes', path: '/p/sku-1', title: 'Runner' },
}, cb)
analytics.track({
  userId: user,
  anonymousId: anon,
  event: 'Product Viewed',
  properties: { product_id: 'sku-1', sku: 'SKU-1', category: 'Shoes', name: 'Runner', brand: 'ACME', price: 59.99, currency: 'EUR', quantity: 1 },
}, cb)
analytics.track({
  userId: user,
  event: 'Product Added',
  properties: { cart_id: 'cart-1', product_id: 'sku-1', price: 59.99, quantity: 2, currency: 'EUR' },
}, cb)
analytics.track({
  userId: user,
  event: 'Order Completed',
  properties: {
    order_id: `order-${tag}`,
    checkout_id: 'co-1',
    total: 129.97,
    revenue: 119.98,
    shipping: 9.99,
    tax: 0,
    currency: 'EUR',
    products: [
      { product_id: 'sku-1', sku: 'SKU-1', name: 'Runner', price: 59.99, quantity: 2 },
    ],
  },
}, cb)
analytics.track({ anonymousId: anon, event: 'Products Searched', properties: { query: 'running shoes' } }, cb)
analytics.track({ userId: user, event: 'Newsletter Signed Up', properties: { source: 'footer' },
  timestamp: new Date(Date.now() - 60000) }, cb)

analytics
  .closeAndFlush({ timeout: 20000 })
  .then(() => {
    process.stdout.write(JSON.stringify({
      version: pkg.version,
      sent: [...sent.values()],
      delivered,
      requests,
      errors,
    }) + '\n')
  })
  .catch((e) => {
    console.error('closeAndFlush failed:', e)
    process.exit(3)
  })
