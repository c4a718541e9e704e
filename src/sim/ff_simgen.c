/* ff_simgen.c -- the shop session generator (contract in ff_sim.h).
 *
 * A session is a Markov chain over page kinds. Entering a page ("a visit")
 * queues the page call and the tracks that happen on that page (Product
 * Viewed, scrolls, clicks, add to cart, Time On Page, ...); each call to
 * ff_simgen_next picks a live session at random and renders the head of its
 * queue. When the queue is empty the session's next page is drawn from the
 * transition table of the current one, or the session ends.
 *
 *            +--> LIST ---+--> PRODUCT --+--> CART --> CHECKOUT --> PAYMENT --+--> CONFIRM
 *   landing -+--> SEARCH -+      ^  |    |                    ^        |  fail|
 *            +--> HOME ---+------+  +----+ (loops)            |        +--retry/cart/end
 *            +--> CONTENT         LOGIN / REGISTER (identify) +
 *   any page --> END (session over; its slot is refilled by a new session)
 *
 * Side effects (cart contents, sign-in, order ids) apply when an action is
 * rendered, not when it is planned, so every message describes the state the
 * shop was in at that moment. Every action renders exactly one message except
 * A_END.
 */
#include "sim/ff_sim.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/ff_clock.h"
#include "core/ff_json.h"
#include "core/ff_mem.h"
#include "sim/ff_sim_int.h"

#define SHOP_BASE "https://shop.example.com"
#define SHOP_NAME "Footfall Demo Shop"
#define LIB_NAME "footfall-sim"
#define LIB_VERSION "0.1.0"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- Static vocabulary ------------------------------------------------------ */

typedef struct cat_def {
    const char *name;
    const char *slug;
    const char *sku;
    const char *nouns[5];
    uint32_t lo_cents, hi_cents;
} cat_def;

enum {
    CAT_SHOES,
    CAT_APPAREL,
    CAT_BAGS,
    CAT_ELECTRONICS,
    CAT_HOME,
    CAT_BOOKS,
    CAT_BEAUTY,
    CAT_SPORTS,
    CAT_ANY = -1
};

/* clang-format off */
static const cat_def k_cats[] = {
    [CAT_SHOES] = {"Shoes", "shoes", "SHO",
        {"Running Shoe", "Sneaker", "Boot", "Sandal", "Loafer"}, 3999, 15999},
    [CAT_APPAREL] = {"Apparel", "apparel", "APP",
        {"T-Shirt", "Hoodie", "Jacket", "Jeans", "Dress"}, 1499, 12999},
    [CAT_BAGS] = {"Bags", "bags", "BAG",
        {"Backpack", "Tote Bag", "Wallet", "Duffel", "Crossbody Bag"}, 1999, 19999},
    [CAT_ELECTRONICS] = {"Electronics", "electronics", "ELE",
        {"Headphones", "Speaker", "Charger", "Smartwatch", "Keyboard"}, 999, 39999},
    [CAT_HOME] = {"Home", "home", "HOM",
        {"Mug", "Lamp", "Throw Blanket", "Candle", "Vase"}, 799, 8999},
    [CAT_BOOKS] = {"Books", "books", "BOO",
        {"Cookbook", "Novel", "Notebook", "Travel Guide", "Atlas"}, 699, 3999},
    [CAT_BEAUTY] = {"Beauty", "beauty", "BEA",
        {"Face Serum", "Lip Balm", "Shampoo", "Perfume", "Hand Cream"}, 599, 9999},
    [CAT_SPORTS] = {"Sports", "sports", "SPO",
        {"Yoga Mat", "Water Bottle", "Dumbbell Set", "Tennis Racket", "Bike Light"}, 999, 19999},
};
/* clang-format on */

static const char *const k_adjs[] = {"Classic", "Everyday",  "Premium",    "Vintage",
                                     "Urban",   "Eco",       "Ultralight", "Cozy",
                                     "Pro",     "Essential", "Nordic",     "Midnight"};
static const char *const k_brands[] = {"Northwind", "Fjord & Co", "Lumen",
                                       "Trailhead", "Kettle",     "Basalt"};

/* Queries include a quote, a non-ASCII letter and a typo on purpose: the
 * collector must cope with all three. */
typedef struct query_def {
    const char *text;
    int cat; /* category the results come from; -1 = any */
} query_def;

/* clang-format off */
static const query_def k_queries[] = {
    {"running shoes", CAT_SHOES},       {"hoodie", CAT_APPAREL},
    {"wireless headphones", CAT_ELECTRONICS}, {"gift ideas", CAT_ANY},
    {"yoga mat", CAT_SPORTS},           {"backpack", CAT_BAGS},
    {"candle", CAT_HOME},               {"face serum", CAT_BEAUTY},
    {"snekers", CAT_SHOES},             {"rain jacket", CAT_APPAREL},
    {"water bottle", CAT_SPORTS},       {"cookbook", CAT_BOOKS},
    {"smartwatch", CAT_ELECTRONICS},    {"leather wallet", CAT_BAGS},
    {"summer dress", CAT_APPAREL},      {"usb-c charger", CAT_ELECTRONICS},
    {"café mug", CAT_HOME},             {"\"vintage\" t-shirt", CAT_APPAREL},
    {"boots size 42", CAT_SHOES},       {"travel guide japan", CAT_BOOKS},
};
/* clang-format on */

static const char *const k_review_bodies[] = {"Great quality, fast delivery.",
                                              "Runs a bit small, order one size up.",
                                              "Exactly as described.",
                                              "Love it \xF0\x9F\x98\x8D",
                                              "Colour is darker than on the photos.",
                                              "Broke after two weeks, disappointed.",
                                              "Très bien, je recommande !",
                                              "Good value for the price."};

static const char *const k_share_via[] = {"email", "facebook", "whatsapp", "pinterest",
                                          "copy_link"};
static const char *const k_pay_methods[] = {"credit_card", "paypal", "apple_pay", "google_pay",
                                            "klarna"};
static const char *const k_ship_methods[] = {"standard", "express", "pickup"};

/* Stripe-style decline codes with weights (normal mix; during the anomaly a
 * payment provider outage makes most failures "processing_error"). */
static const char *const k_declines[] = {"card_declined", "insufficient_funds", "expired_card",
                                         "incorrect_cvc", "processing_error",   "do_not_honor",
                                         "fraudulent"};
static const uint32_t k_decline_w[] = {35, 25, 10, 12, 6, 9, 3};

static const char *const k_first[] = {"Alex", "Sam",  "Maria", "Jonas", "Aiko",  "Priya",
                                      "Liam", "Emma", "Noah",  "Zoé",   "Mateo", "Fatima"};
static const char *const k_last[] = {"Kim",    "Smith", "Garcia", "Müller", "Tanaka", "Patel",
                                     "Nguyen", "Rossi", "Dubois", "Okafor", "Silva",  "Jensen"};
static const char *const k_last_ascii[] = {"kim",    "smith",  "garcia", "muller",
                                           "tanaka", "patel",  "nguyen", "rossi",
                                           "dubois", "okafor", "silva",  "jensen"};
static const char *const k_first_ascii[] = {"alex", "sam",  "maria", "jonas", "aiko",  "priya",
                                            "liam", "emma", "noah",  "zoe",   "mateo", "fatima"};

/* User agents: the first five are mobile/tablet. */
#define N_MOBILE_UA 5u
static const char *const k_uas[] = {
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) CriOS/125.0.6422.80 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.0.0 Safari/537.36 Edg/125.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0",
};

typedef struct referrer_def {
    const char *url; /* "" = direct */
    uint32_t weight;
    const char *utm_source; /* non-NULL: landing URL carries a campaign */
    const char *utm_medium;
} referrer_def;

static const referrer_def k_referrers[] = {
    {"", 300, NULL, NULL},
    {"https://www.google.com/", 330, NULL, NULL},
    {"https://www.bing.com/", 40, NULL, NULL},
    {"https://www.instagram.com/", 90, "instagram", "social"},
    {"https://t.co/", 30, NULL, NULL},
    {"https://news.example.org/gift-guide", 50, NULL, NULL},
    {"https://mail.example.net/", 110, "newsletter", "email"},
    {"https://www.google.com/aclk", 50, "google", "cpc"},
};

typedef struct content_def {
    const char *path;
    const char *title;
} content_def;

static const content_def k_content[] = {
    {"/help/shipping", "Shipping & delivery"},
    {"/help/returns", "Returns"},
    {"/about", "About us"},
    {"/blog/how-to-choose-running-shoes", "How to choose running shoes"},
    {"/stores", "Our stores"},
};

typedef struct currency_def {
    const char *code;
    uint32_t pct_of_usd; /* price conversion */
    uint32_t tax_pct;    /* added at checkout (0: VAT included in prices) */
} currency_def;

static const currency_def k_currencies[] = {{"USD", 100, 8}, {"EUR", 92, 0}, {"GBP", 79, 0}};
static const char *const k_locales[] = {"en-US", "de-DE", "en-GB", "fr-FR", "nl-NL", "es-US"};

/* ---- State -------------------------------------------------------------------- */

typedef enum page_kind {
    PG_NONE,
    PG_HOME,
    PG_LIST,
    PG_SEARCH,
    PG_PRODUCT,
    PG_CART,
    PG_CHECKOUT,
    PG_PAYMENT,
    PG_CONFIRM,
    PG_CONTENT,
    PG_LOGIN,
    PG_REGISTER,
    PG_END, /* a transition target only */
    PG_N_
} page_kind;

typedef enum act_kind {
    A_PAGE, /* a = page_kind, b = argument (product, category, query, content) */
    A_SEARCHED,
    A_LIST_VIEWED,
    A_PRODUCT_CLICKED,
    A_PRODUCT_VIEWED,
    A_SCROLL, /* a = depth */
    A_CLICK,  /* a = index into the element table of the current page */
    A_TIME,   /* a = seconds */
    A_ADD,    /* a = product, b = quantity */
    A_REMOVE, /* a = cart slot */
    A_CART_VIEWED,
    A_CHECKOUT,
    A_PAYINFO, /* a = payment method */
    A_PAY,
    A_IDENTIFY,
    A_SIGNED_IN,
    A_SIGNED_UP,
    A_WISHLIST,
    A_SHARE,
    A_REVIEW,
    A_END, /* renders nothing: the session is over */
} act_kind;

typedef struct sim_act {
    uint8_t kind;
    uint32_t a, b;
} sim_act;

typedef struct sim_item {
    uint32_t product;
    uint32_t qty;
} sim_item;

#define MAX_CART 8u
#define QUEUE_CAP 32u
#define MAX_SESSION_EVENTS 250u
#define MAX_PAY_ATTEMPTS 3u

typedef struct sim_session {
    bool live;
    bool ended;
    bool logged_in;
    bool in_checkout; /* an order id is open */
    bool campaign;    /* landing URL carries utm_* (context.campaign on the first page) */
    uint8_t currency;
    uint8_t locale;
    uint8_t ua;
    uint8_t referrer; /* landing referrer index */
    uint8_t pay_attempts;
    uint8_t pay_method;
    uint8_t ship_method;
    uint8_t page;
    uint32_t page_arg;
    uint32_t user;
    uint32_t n_events;
    uint32_t n_visits;
    uint64_t serial; /* session number */
    uint64_t order_no;
    char anon_id[40];
    char ip[48];
    char url[480]; /* base + path + search always fit */
    char path[256];
    char referrer_url[480];
    char title[160];
    char search[200];
    sim_item cart[MAX_CART];
    uint32_t n_cart;
    sim_act q[QUEUE_CAP];
    uint32_t q_head, q_len;
} sim_session;

typedef struct sim_product {
    uint32_t usd_cents;
    uint8_t cat, adj, noun, brand;
} sim_product;

enum { USER_REGISTERED = 1u << 0, USER_ACTIVE = 1u << 1 };

struct ff_simgen {
    ff_simgen_opts o;
    ff_simrng rng;
    ff_zipf zp; /* product popularity */
    ff_zipf zu; /* user activity */
    sim_product *products;
    uint32_t *cat_products; /* product indices grouped by category, ascending */
    uint32_t cat_off[N_OF(k_cats) + 1];
    uint8_t *users; /* USER_* flags */
    sim_session *sessions;
    ff_buf scratch;
    char id_prefix[24]; /* "sim-<seed hex>-" */
    char order_prefix[12];
    bool have_t0;
    int64_t t0_ms;
    int64_t now_ms;
    uint64_t n_sessions_started;
    uint64_t n_checkouts;
    uint64_t n_reviews;
    ff_simgen_counts counts;
};

/* ---- A tiny JSON writer with a sticky error ---------------------------------- */

typedef struct jw {
    ff_buf *b;
    ff_rc rc;
    uint32_t depth;
    bool need_comma[8];
} jw;

static void jw_raw(jw *w, const char *s, size_t n)
{
    if (w->rc == FF_OK)
        w->rc = ff_buf_add(w->b, s, n);
}

static void jw_lit(jw *w, const char *s)
{
    jw_raw(w, s, strlen(s));
}

static void jw_sep(jw *w)
{
    if (w->need_comma[w->depth])
        jw_raw(w, ",", 1);
    w->need_comma[w->depth] = true;
}

/* Keys are constant identifiers and need no escaping. */
static void jw_key(jw *w, const char *k)
{
    jw_sep(w);
    jw_raw(w, "\"", 1);
    jw_lit(w, k);
    jw_raw(w, "\":", 2);
}

static void jw_open(jw *w, char c)
{
    jw_raw(w, &c, 1);
    FF_VERIFY(w->depth + 1 < N_OF(w->need_comma));
    w->need_comma[++w->depth] = false;
}

static void jw_close(jw *w, char c)
{
    jw_raw(w, &c, 1);
    w->depth--;
}

static void jw_str(jw *w, const char *s)
{
    if (w->rc == FF_OK)
        w->rc = ff_json_write_str(w->b, s, strlen(s));
}

static void jw_kstr(jw *w, const char *k, const char *v)
{
    jw_key(w, k);
    jw_str(w, v);
}

static void jw_ku64(jw *w, const char *k, uint64_t v)
{
    jw_key(w, k);
    if (w->rc == FF_OK)
        w->rc = ff_buf_add_u64(w->b, v);
}

/* Money from integer minor units: 1999 -> 19.99 (never through a double). */
static void jw_kmoney(jw *w, const char *k, uint64_t cents)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%llu.%02llu", (unsigned long long)(cents / 100),
                     (unsigned long long)(cents % 100));
    jw_key(w, k);
    jw_raw(w, tmp, (size_t)n);
}

static void jw_kopen(jw *w, const char *k, char c)
{
    jw_key(w, k);
    jw_open(w, c);
}

/* ---- Small helpers ----------------------------------------------------------- */

static uint32_t pick_weighted(ff_simrng *r, const uint32_t *w, uint32_t n)
{
    uint32_t total = 0;
    for (uint32_t i = 0; i < n; i++)
        total += w[i];
    if (total == 0)
        return n; /* nothing possible */
    uint32_t x = ff_simrng_below(r, total);
    for (uint32_t i = 0; i < n; i++) {
        if (x < w[i])
            return i;
        x -= w[i];
    }
    return n - 1;
}

/* Append to a NUL-terminated string in dst[cap], truncating if need be
 * (our inputs come from the tables above and always fit). */
static void str_append(char *dst, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void str_append(char *dst, size_t cap, const char *fmt, ...)
{
    size_t n = strlen(dst);
    if (n + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst + n, cap - n, fmt, ap);
    va_end(ap);
}

/* Lower-case slug of s ("Fjord & Co Boot" -> "fjord-co-boot"); UTF-8 bytes
 * are dropped. */
static void slugify(char *dst, size_t cap, const char *s)
{
    size_t n = 0;
    bool dash = false;
    for (; *s && n + 2 < cap; s++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (dash && n > 0)
                dst[n++] = '-';
            dash = false;
            dst[n++] = c;
        } else {
            dash = true;
        }
    }
    dst[n] = '\0';
}

/* application/x-www-form-urlencoded value: space -> '+', the rest %XX. */
static void form_encode(char *dst, size_t cap, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (; *s && n + 4 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            dst[n++] = (char)c;
        } else if (c == ' ') {
            dst[n++] = '+';
        } else {
            dst[n++] = '%';
            dst[n++] = hex[c >> 4];
            dst[n++] = hex[c & 15];
        }
    }
    dst[n] = '\0';
}

static void uuid_format(char *dst, uint64_t hi, uint64_t lo)
{
    hi = (hi & ~0xf000ull) | 0x4000ull;       /* version 4 */
    lo = (lo & ~(3ull << 62)) | (2ull << 62); /* RFC 4122 variant */
    snprintf(dst, 37, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(hi >> 32),
             (unsigned)((hi >> 16) & 0xffff), (unsigned)(hi & 0xffff), (unsigned)(lo >> 48),
             (unsigned long long)(lo & 0xffffffffffffull));
}

static uint64_t user_hash(const ff_simgen *g, uint32_t user, uint64_t salt)
{
    return ff_sim_mix(g->o.seed ^ salt, user);
}

static void product_name(const ff_simgen *g, uint32_t p, char *dst, size_t cap)
{
    const sim_product *sp = &g->products[p];
    snprintf(dst, cap, "%s %s", k_adjs[sp->adj], k_cats[sp->cat].nouns[sp->noun]);
}

static void product_id(uint32_t p, char *dst, size_t cap)
{
    snprintf(dst, cap, "prod-%05u", p);
}

static void product_sku(const ff_simgen *g, uint32_t p, char *dst, size_t cap)
{
    snprintf(dst, cap, "%s-%05u-%u", k_cats[g->products[p].cat].sku, p,
             (unsigned)g->products[p].noun);
}

static uint64_t price_in(const sim_product *sp, uint8_t cur)
{
    uint64_t c = (uint64_t)sp->usd_cents * k_currencies[cur].pct_of_usd / 100;
    if (cur != 0)
        c = c < 100 ? 99 : c - c % 100 + 99; /* converted prices end in .99 */
    return c;
}

static void user_id(uint32_t user, char *dst, size_t cap)
{
    snprintf(dst, cap, "user-%06u", user);
}

/* ---- Catalogue and lifecycle ----------------------------------------------------- */

static ff_rc build_catalogue(ff_simgen *g)
{
    uint32_t n = g->o.n_products;
    g->products = ff_calloc(n, sizeof *g->products);
    g->cat_products = ff_calloc(n, sizeof *g->cat_products);
    if (!g->products || !g->cat_products)
        return FF_ENOMEM;
    uint32_t per_cat[N_OF(k_cats)] = {0};
    for (uint32_t p = 0; p < n; p++) {
        sim_product *sp = &g->products[p];
        sp->cat = (uint8_t)ff_simrng_below(&g->rng, N_OF(k_cats));
        sp->adj = (uint8_t)ff_simrng_below(&g->rng, N_OF(k_adjs));
        sp->noun = (uint8_t)ff_simrng_below(&g->rng, 5);
        sp->brand = (uint8_t)ff_simrng_below(&g->rng, N_OF(k_brands));
        const cat_def *c = &k_cats[sp->cat];
        /* Skew prices low: the smaller of two uniform draws. */
        uint32_t a = ff_simrng_range(&g->rng, c->lo_cents / 100, c->hi_cents / 100);
        uint32_t b = ff_simrng_range(&g->rng, c->lo_cents / 100, c->hi_cents / 100);
        uint32_t whole = a < b ? a : b;
        static const uint32_t ends[] = {99, 99, 99, 95, 49, 0};
        sp->usd_cents = whole * 100 + ends[ff_simrng_below(&g->rng, N_OF(ends))];
        if (sp->usd_cents == 0)
            sp->usd_cents = 99;
        per_cat[sp->cat]++;
    }
    g->cat_off[0] = 0;
    for (size_t c = 0; c < N_OF(k_cats); c++)
        g->cat_off[c + 1] = g->cat_off[c] + per_cat[c];
    uint32_t fill[N_OF(k_cats)];
    for (size_t c = 0; c < N_OF(k_cats); c++)
        fill[c] = g->cat_off[c];
    for (uint32_t p = 0; p < n; p++)
        g->cat_products[fill[g->products[p].cat]++] = p;
    return FF_OK;
}

ff_rc ff_sim_anomaly_parse(const char *s, ff_sim_anomaly *out)
{
    if (!s || !*s || strcmp(s, "none") == 0) {
        *out = FF_SIM_ANOMALY_NONE;
        return FF_OK;
    }
    if (strcmp(s, "payment-failures") == 0) {
        *out = FF_SIM_ANOMALY_PAYMENT_FAILURES;
        return FF_OK;
    }
    return FF_EINVAL;
}

ff_rc ff_simgen_new(const ff_simgen_opts *opts, ff_simgen **out, ff_err *err)
{
    *out = NULL;
    ff_simgen_opts o = *opts;
    if (!o.n_users)
        o.n_users = FF_SIM_DEFAULT_USERS;
    if (!o.n_products)
        o.n_products = FF_SIM_DEFAULT_PRODUCTS;
    if (!o.n_sessions)
        o.n_sessions = FF_SIM_DEFAULT_SESSIONS;
    if (o.n_users > FF_SIM_MAX_USERS || o.n_products > FF_SIM_MAX_USERS)
        return FF_ERR_SET(err, FF_EINVAL, "sim: n_users and n_products must be <= %u",
                          FF_SIM_MAX_USERS);
    if (o.n_sessions > 100000)
        return FF_ERR_SET(err, FF_EINVAL, "sim: n_sessions must be <= 100000");
    if (o.anomaly != FF_SIM_ANOMALY_NONE && o.anomaly != FF_SIM_ANOMALY_PAYMENT_FAILURES)
        return FF_ERR_SET(err, FF_EINVAL, "sim: unknown anomaly %d", (int)o.anomaly);

    ff_simgen *g = ff_calloc(1, sizeof *g);
    if (!g)
        return FF_ERR_SET(err, FF_ENOMEM, "sim: out of memory");
    g->o = o;
    ff_buf_init(&g->scratch, FF_SIM_MAX_MESSAGE_BYTES);
    ff_simrng_seed(&g->rng, o.seed);
    snprintf(g->id_prefix, sizeof g->id_prefix, "sim-%016llx-", (unsigned long long)o.seed);
    snprintf(g->order_prefix, sizeof g->order_prefix, "%08x",
             (unsigned)(ff_sim_mix(o.seed, 0x6f72646572ull) >> 32));
    ff_rc rc = ff_zipf_init(&g->zp, o.n_products, 2);
    if (rc == FF_OK)
        rc = ff_zipf_init(&g->zu, o.n_users, 10);
    if (rc == FF_OK)
        rc = build_catalogue(g);
    if (rc == FF_OK) {
        g->users = ff_calloc(o.n_users, 1);
        g->sessions = ff_calloc(o.n_sessions, sizeof *g->sessions);
        if (!g->users || !g->sessions)
            rc = FF_ENOMEM;
    }
    if (rc != FF_OK) {
        ff_simgen_free(g);
        return FF_ERR_SET(err, rc, "sim: cannot build the shop: %s", ff_rc_name(rc));
    }
    for (uint32_t u = 0; u < o.n_users; u++)
        if (user_hash(g, u, 0x726567ull) % 1000 < 550)
            g->users[u] = USER_REGISTERED;
    *out = g;
    return FF_OK;
}

void ff_simgen_free(ff_simgen *g)
{
    if (!g)
        return;
    ff_zipf_fini(&g->zp);
    ff_zipf_fini(&g->zu);
    ff_free(g->products);
    ff_free(g->cat_products);
    ff_free(g->users);
    ff_free(g->sessions);
    ff_buf_fini(&g->scratch);
    ff_free(g);
}

void ff_simgen_counts_get(const ff_simgen *g, ff_simgen_counts *out)
{
    *out = g->counts;
}

bool ff_simgen_anomaly_active(const ff_simgen *g)
{
    return g->o.anomaly == FF_SIM_ANOMALY_PAYMENT_FAILURES && g->have_t0 &&
           g->now_ms - g->t0_ms >= g->o.anomaly_start_ms;
}

/* ---- Sessions: planning --------------------------------------------------------- */

static void push(sim_session *s, uint8_t kind, uint32_t a, uint32_t b)
{
    FF_VERIFY(s->q_len < QUEUE_CAP); /* the planner queues at most ~20 per visit */
    sim_act *x = &s->q[(s->q_head + s->q_len++) % QUEUE_CAP];
    x->kind = kind;
    x->a = a;
    x->b = b;
}

static uint32_t sample_product(ff_simgen *g)
{
    return ff_zipf_sample(&g->zp, &g->rng);
}

/* A product of category cat, popular ones first (tries Zipf draws, then any). */
static uint32_t sample_product_in(ff_simgen *g, uint32_t cat)
{
    for (int i = 0; i < 16; i++) {
        uint32_t p = sample_product(g);
        if (g->products[p].cat == cat)
            return p;
    }
    uint32_t n = g->cat_off[cat + 1] - g->cat_off[cat];
    return n ? g->cat_products[g->cat_off[cat] + ff_simrng_below(&g->rng, n)] : sample_product(g);
}

/* Elements clickable per page kind (index 0 of each row is used by the planner
 * for the click that precedes an add to cart on product pages). */
static const char *const k_elems[PG_N_][5] = {
    [PG_HOME] = {"hero-banner", "nav-menu", "promo-tile", "newsletter-signup", "search-box"},
    [PG_LIST] = {"product-tile", "filter-size", "filter-color", "sort-price", "pagination-next"},
    [PG_SEARCH] = {"product-tile", "search-box", "filter-price", "sort-relevance", "did-you-mean"},
    [PG_PRODUCT] = {"add-to-cart-button", "image-gallery", "size-selector", "color-swatch",
                    "reviews-tab"},
    [PG_CART] = {"checkout-button", "quantity-stepper", "promo-code", "continue-shopping",
                 "remove-item"},
    [PG_CHECKOUT] = {"continue-to-payment", "shipping-option", "address-autocomplete",
                     "terms-checkbox", "edit-cart"},
    [PG_PAYMENT] = {"pay-button", "card-number", "payment-method-tab", "billing-address",
                    "back-to-shipping"},
    [PG_CONFIRM] = {"continue-shopping", "track-order", "create-account", "share-order",
                    "print-receipt"},
    [PG_CONTENT] = {"faq-toggle", "contact-link", "nav-menu", "search-box", "read-more"},
    [PG_LOGIN] = {"sign-in-button", "forgot-password", "google-sign-in", "show-password",
                  "register-link"},
    [PG_REGISTER] = {"create-account-button", "terms-checkbox", "google-sign-in",
                     "newsletter-opt-in", "sign-in-link"},
};

static void plan_engagement(ff_simgen *g, sim_session *s, page_kind kind)
{
    ff_simrng *r = &g->rng;
    bool scrollable = kind == PG_HOME || kind == PG_LIST || kind == PG_SEARCH ||
                      kind == PG_PRODUCT || kind == PG_CONTENT || kind == PG_CONFIRM;
    if (scrollable && ff_simrng_chance(r, 650)) {
        push(s, A_SCROLL, 25, 0);
        for (uint32_t d = 50; d <= 100 && ff_simrng_chance(r, 600); d += 25)
            push(s, A_SCROLL, d, 0);
    }
    for (int i = 0; i < 2; i++)
        if (ff_simrng_chance(r, 350))
            push(s, A_CLICK, 1 + ff_simrng_below(r, 4), 0);
}

static void plan_visit(ff_simgen *g, sim_session *s, page_kind kind, uint32_t arg)
{
    ff_simrng *r = &g->rng;
    push(s, A_PAGE, kind, arg);
    switch (kind) {
    case PG_LIST:
        push(s, A_LIST_VIEWED, arg, 0);
        break;
    case PG_SEARCH:
        push(s, A_SEARCHED, arg, 0);
        break;
    case PG_PRODUCT:
        push(s, A_PRODUCT_VIEWED, arg, 0);
        break;
    case PG_CART:
        push(s, A_CART_VIEWED, 0, 0);
        break;
    case PG_CHECKOUT:
        push(s, A_CHECKOUT, 0, 0);
        break;
    case PG_PAYMENT:
        push(s, A_PAYINFO, ff_simrng_below(r, N_OF(k_pay_methods)), 0);
        break;
    case PG_LOGIN:
        push(s, A_IDENTIFY, 0, 0);
        push(s, A_SIGNED_IN, 0, 0);
        break;
    case PG_REGISTER:
        push(s, A_IDENTIFY, 1, 0);
        push(s, A_SIGNED_UP, 0, 0);
        break;
    default:
        break;
    }
    plan_engagement(g, s, kind);
    if (kind == PG_PRODUCT) {
        bool in_cart = false;
        for (uint32_t i = 0; i < s->n_cart; i++)
            in_cart |= s->cart[i].product == arg;
        if ((in_cart || s->n_cart < MAX_CART) && ff_simrng_chance(r, 280)) {
            uint32_t qty = ff_simrng_chance(r, 800) ? 1 : ff_simrng_range(r, 2, 3);
            push(s, A_CLICK, 0, 0);
            push(s, A_ADD, arg, qty);
        }
        if (ff_simrng_chance(r, 60))
            push(s, A_WISHLIST, arg, 0);
        if (ff_simrng_chance(r, 30))
            push(s, A_SHARE, arg, 0);
        if (ff_simrng_chance(r, 30))
            push(s, A_REVIEW, arg, 0);
    } else if (kind == PG_CART && s->n_cart > 0 && ff_simrng_chance(r, 150)) {
        push(s, A_REMOVE, ff_simrng_below(r, s->n_cart), 0);
    } else if (kind == PG_PAYMENT) {
        push(s, A_CLICK, 0, 0); /* pay-button */
        push(s, A_PAY, 0, 0);
        return; /* no Time On Page: the outcome decides what follows */
    }
    if (ff_simrng_chance(r, 700)) {
        uint32_t secs;
        uint32_t x = ff_simrng_below(r, 100);
        if (x < 60)
            secs = ff_simrng_range(r, 2, 12);
        else if (x < 90)
            secs = ff_simrng_range(r, 13, 90);
        else
            secs = ff_simrng_range(r, 91, 600);
        push(s, A_TIME, secs, 0);
    }
}

/* Choose a page argument for kind. */
static uint32_t page_arg_for(ff_simgen *g, page_kind kind)
{
    switch (kind) {
    case PG_PRODUCT:
        return sample_product(g);
    case PG_LIST:
        return g->products[sample_product(g)].cat;
    case PG_SEARCH:
        return ff_simrng_below(&g->rng, N_OF(k_queries));
    case PG_CONTENT:
        return ff_simrng_below(&g->rng, N_OF(k_content));
    default:
        return 0;
    }
}

/* Transition weights: rows = current page, columns = next page. */
static const uint32_t k_trans[PG_N_][PG_N_] = {
    /*                NONE HOME LIST SRCH PROD CART CHK  PAY  CONF CONT LOGIN REG END */
    [PG_HOME] = {0, 0, 320, 220, 150, 40, 0, 0, 0, 50, 40, 15, 150},
    [PG_LIST] = {0, 40, 100, 90, 520, 60, 0, 0, 0, 0, 10, 0, 170},
    [PG_SEARCH] = {0, 20, 90, 140, 520, 30, 0, 0, 0, 0, 0, 0, 200},
    [PG_PRODUCT] = {0, 40, 140, 90, 230, 230, 0, 0, 0, 0, 10, 5, 200},
    [PG_CART] = {0, 30, 80, 0, 120, 0, 520, 0, 0, 0, 0, 0, 230},
    [PG_CHECKOUT] = {0, 0, 0, 0, 0, 80, 0, 780, 0, 0, 0, 0, 140},
    [PG_PAYMENT] = {0, 0, 0, 0, 0, 300, 0, 0, 0, 0, 0, 0, 700},
    [PG_CONFIRM] = {0, 120, 0, 0, 60, 0, 0, 0, 0, 0, 0, 0, 820},
    [PG_CONTENT] = {0, 350, 250, 100, 0, 0, 0, 0, 0, 0, 0, 0, 300},
    [PG_LOGIN] = {0, 300, 200, 100, 150, 150, 0, 0, 0, 0, 0, 0, 100},
    [PG_REGISTER] = {0, 350, 200, 100, 150, 100, 0, 0, 0, 0, 0, 0, 100},
};

static void plan_landing(ff_simgen *g, sim_session *s)
{
    static const uint32_t w[] = {
        [PG_HOME] = 450, [PG_PRODUCT] = 250, [PG_LIST] = 200, [PG_SEARCH] = 50, [PG_CONTENT] = 50};
    page_kind kind = (page_kind)pick_weighted(&g->rng, w, N_OF(w));
    plan_visit(g, s, kind, page_arg_for(g, kind));
}

static void plan_next(ff_simgen *g, sim_session *s)
{
    if (s->n_visits == 0) {
        plan_landing(g, s);
        return;
    }
    uint32_t w[PG_N_];
    memcpy(w, k_trans[s->page], sizeof w);
    bool user_registered = g->users[s->user] & USER_REGISTERED;
    if (s->n_cart == 0)
        w[PG_CART] = w[PG_CHECKOUT] = 0;
    if (s->logged_in || !user_registered)
        w[PG_LOGIN] = 0;
    if (s->logged_in || user_registered)
        w[PG_REGISTER] = 0;
    if (s->n_events >= MAX_SESSION_EVENTS)
        memset(w, 0, sizeof w);
    w[PG_END] += 1; /* always a way out */
    page_kind next = (page_kind)pick_weighted(&g->rng, w, PG_N_);
    if (next == PG_END) {
        push(s, A_END, 0, 0);
        return;
    }
    uint32_t arg = page_arg_for(g, next);
    if (next == PG_PRODUCT && (s->page == PG_LIST || s->page == PG_SEARCH)) {
        if (s->page == PG_LIST)
            arg = sample_product_in(g, s->page_arg);
        else if (k_queries[s->page_arg].cat >= 0)
            arg = sample_product_in(g, (uint32_t)k_queries[s->page_arg].cat);
        push(s, A_PRODUCT_CLICKED, arg, 0);
    }
    if (next == PG_LIST && s->page == PG_PRODUCT && ff_simrng_chance(&g->rng, 600))
        arg = g->products[s->page_arg].cat; /* back to the product's category */
    if (next == PG_CHECKOUT && !s->logged_in) {
        /* Checkout asks who you are: sign in, sign up, or continue as guest. */
        if (user_registered && ff_simrng_chance(&g->rng, 600))
            plan_visit(g, s, PG_LOGIN, 0);
        else if (!user_registered && ff_simrng_chance(&g->rng, 350))
            plan_visit(g, s, PG_REGISTER, 0);
    }
    plan_visit(g, s, next, arg);
}

static void session_start(ff_simgen *g, sim_session *s)
{
    ff_simrng *r = &g->rng;
    memset(s, 0, sizeof *s);
    s->live = true;
    s->serial = ++g->n_sessions_started;
    g->counts.n_sessions++;
    /* Zipf-skewed user; avoid a user who already has a session open. */
    uint32_t u = ff_zipf_sample(&g->zu, r);
    for (int i = 0; i < 8 && (g->users[u] & USER_ACTIVE); i++)
        u = ff_zipf_sample(&g->zu, r);
    s->user = u;
    g->users[u] |= USER_ACTIVE;
    bool registered = g->users[u] & USER_REGISTERED;
    s->logged_in = registered && ff_simrng_chance(r, 500);

    /* Per-user stable attributes: two devices, a home currency and locale. */
    uint64_t h = user_hash(g, u, 0x646576ull);
    uint32_t device = ff_simrng_chance(r, 800) ? 0 : 1;
    uint64_t hd = ff_sim_mix(h, device);
    s->ua =
        (uint8_t)((hd >> 8) % 100 < 58 ? (hd >> 16) % N_MOBILE_UA
                                       : N_MOBILE_UA + (hd >> 16) % (N_OF(k_uas) - N_MOBILE_UA));
    uuid_format(s->anon_id, ff_sim_mix(hd, 1), ff_sim_mix(hd, 2));
    uint32_t cur = (uint32_t)(h >> 40) % 100;
    s->currency = cur < 82 ? 0 : cur < 94 ? 1 : 2;
    static const uint8_t loc_usd[] = {0, 0, 0, 0, 0, 0, 0, 5};
    static const uint8_t loc_eur[] = {1, 3, 4};
    if (s->currency == 0)
        s->locale = loc_usd[(h >> 20) % N_OF(loc_usd)];
    else if (s->currency == 1)
        s->locale = loc_eur[(h >> 20) % N_OF(loc_eur)];
    else
        s->locale = 2;

    /* Addresses from the documentation ranges (RFC 5737, RFC 3849). */
    uint32_t net = ff_simrng_below(r, 100);
    if (net < 10) {
        snprintf(s->ip, sizeof s->ip, "2001:db8:%x:%x::%x", ff_simrng_below(r, 0x10000),
                 ff_simrng_below(r, 0x10000), ff_simrng_range(r, 1, 0xfffe));
    } else {
        static const char *const nets[] = {"203.0.113", "198.51.100", "192.0.2"};
        snprintf(s->ip, sizeof s->ip, "%s.%u", nets[net % 3], ff_simrng_range(r, 1, 254));
    }
    uint32_t rw[N_OF(k_referrers)];
    for (size_t i = 0; i < N_OF(k_referrers); i++)
        rw[i] = k_referrers[i].weight;
    s->referrer = (uint8_t)pick_weighted(r, rw, N_OF(k_referrers));
    s->campaign = k_referrers[s->referrer].utm_source != NULL;
    snprintf(s->url, sizeof s->url, "%s", k_referrers[s->referrer].url);
    s->ship_method = (uint8_t)ff_simrng_below(r, N_OF(k_ship_methods));
}

static void session_end(ff_simgen *g, sim_session *s)
{
    g->users[s->user] &= (uint8_t)~USER_ACTIVE;
    s->live = false;
}

/* ---- Rendering ------------------------------------------------------------------------ */

static void set_page(ff_simgen *g, sim_session *s, page_kind kind, uint32_t arg)
{
    char tmp[64], enc[128];
    /* The previous URL becomes the referrer (on landing: the external one). */
    memcpy(s->referrer_url, s->url, sizeof s->url);
    s->search[0] = '\0';
    s->page = (uint8_t)kind;
    s->page_arg = arg;
    switch (kind) {
    case PG_HOME:
        snprintf(s->path, sizeof s->path, "/");
        snprintf(s->title, sizeof s->title, "%s", SHOP_NAME);
        break;
    case PG_LIST:
        snprintf(s->path, sizeof s->path, "/c/%s", k_cats[arg].slug);
        snprintf(s->title, sizeof s->title, "%s | %s", k_cats[arg].name, SHOP_NAME);
        break;
    case PG_SEARCH:
        form_encode(enc, sizeof enc, k_queries[arg].text);
        snprintf(s->path, sizeof s->path, "/search");
        snprintf(s->search, sizeof s->search, "?q=%s", enc);
        snprintf(s->title, sizeof s->title, "Search: %s | %s", k_queries[arg].text, SHOP_NAME);
        break;
    case PG_PRODUCT:
        product_name(g, arg, tmp, sizeof tmp);
        slugify(enc, sizeof enc, tmp);
        snprintf(s->path, sizeof s->path, "/p/%s-%u", enc, arg);
        snprintf(s->title, sizeof s->title, "%s | %s", tmp, SHOP_NAME);
        break;
    case PG_CART:
        snprintf(s->path, sizeof s->path, "/cart");
        snprintf(s->title, sizeof s->title, "Cart | %s", SHOP_NAME);
        break;
    case PG_CHECKOUT:
        snprintf(s->path, sizeof s->path, "/checkout");
        snprintf(s->title, sizeof s->title, "Checkout | %s", SHOP_NAME);
        break;
    case PG_PAYMENT:
        snprintf(s->path, sizeof s->path, "/checkout/payment");
        snprintf(s->title, sizeof s->title, "Payment | %s", SHOP_NAME);
        break;
    case PG_CONFIRM:
        snprintf(s->path, sizeof s->path, "/checkout/confirmation");
        snprintf(s->search, sizeof s->search, "?order=ord-%s-%llu", g->order_prefix,
                 (unsigned long long)s->order_no);
        snprintf(s->title, sizeof s->title, "Thank you for your order | %s", SHOP_NAME);
        break;
    case PG_CONTENT:
        snprintf(s->path, sizeof s->path, "%s", k_content[arg].path);
        snprintf(s->title, sizeof s->title, "%s | %s", k_content[arg].title, SHOP_NAME);
        break;
    case PG_LOGIN:
        snprintf(s->path, sizeof s->path, "/account/login");
        snprintf(s->title, sizeof s->title, "Sign in | %s", SHOP_NAME);
        break;
    case PG_REGISTER:
        snprintf(s->path, sizeof s->path, "/account/register");
        snprintf(s->title, sizeof s->title, "Create account | %s", SHOP_NAME);
        break;
    default:
        FF_PANIC("sim: bad page kind %d", (int)kind);
    }
    if (s->n_visits == 0 && s->campaign) {
        const referrer_def *rd = &k_referrers[s->referrer];
        str_append(s->search, sizeof s->search, "%sutm_source=%s&utm_medium=%s&utm_campaign=%s",
                   s->search[0] ? "&" : "?", rd->utm_source, rd->utm_medium, "spring-sale");
    }
    snprintf(s->url, sizeof s->url, "%s%s%s", SHOP_BASE, s->path, s->search);
    s->n_visits++;
}

static const char *page_name(page_kind kind)
{
    static const char *const names[PG_N_] = {[PG_HOME] = "Home",
                                             [PG_LIST] = "Category",
                                             [PG_SEARCH] = "Search Results",
                                             [PG_PRODUCT] = "Product",
                                             [PG_CART] = "Cart",
                                             [PG_CHECKOUT] = "Checkout",
                                             [PG_PAYMENT] = "Payment",
                                             [PG_CONFIRM] = "Order Confirmation",
                                             [PG_CONTENT] = "Content",
                                             [PG_LOGIN] = "Sign In",
                                             [PG_REGISTER] = "Sign Up"};
    return names[kind] ? names[kind] : "Page";
}

static void w_header(ff_simgen *g, sim_session *s, jw *w, const char *type)
{
    char ts[32], id[64], uid[32];
    ff_clock_format_rfc3339(g->now_ms, ts);
    snprintf(id, sizeof id, "%s%llu", g->id_prefix, (unsigned long long)++g->counts.n_messages);
    jw_open(w, '{');
    jw_kstr(w, "type", type);
    jw_kstr(w, "messageId", id);
    jw_kstr(w, "timestamp", ts);
    if (s->logged_in) {
        user_id(s->user, uid, sizeof uid);
        jw_kstr(w, "userId", uid);
    }
    jw_kstr(w, "anonymousId", s->anon_id);
}

static void w_context(ff_simgen *g, sim_session *s, jw *w, bool first_page)
{
    (void)g;
    jw_kopen(w, "context", '{');
    jw_kstr(w, "ip", s->ip);
    jw_kstr(w, "userAgent", k_uas[s->ua]);
    jw_kstr(w, "locale", k_locales[s->locale]);
    jw_kopen(w, "page", '{');
    jw_kstr(w, "path", s->path);
    jw_kstr(w, "referrer", s->referrer_url);
    if (s->search[0])
        jw_kstr(w, "search", s->search);
    jw_kstr(w, "title", s->title);
    jw_kstr(w, "url", s->url);
    jw_close(w, '}');
    if (first_page && s->campaign) {
        const referrer_def *rd = &k_referrers[s->referrer];
        jw_kopen(w, "campaign", '{');
        jw_kstr(w, "name", "spring-sale");
        jw_kstr(w, "source", rd->utm_source);
        jw_kstr(w, "medium", rd->utm_medium);
        jw_close(w, '}');
    }
    jw_kopen(w, "library", '{');
    jw_kstr(w, "name", LIB_NAME);
    jw_kstr(w, "version", LIB_VERSION);
    jw_close(w, '}');
    jw_close(w, '}');
}

/* product_id, sku, category, name, brand, price (+ quantity, position). */
static void w_product_fields(ff_simgen *g, sim_session *s, jw *w, uint32_t p, uint32_t qty,
                             uint32_t position)
{
    char tmp[128];
    const sim_product *sp = &g->products[p];
    product_id(p, tmp, sizeof tmp);
    jw_kstr(w, "product_id", tmp);
    product_sku(g, p, tmp, sizeof tmp);
    jw_kstr(w, "sku", tmp);
    jw_kstr(w, "category", k_cats[sp->cat].name);
    product_name(g, p, tmp, sizeof tmp);
    jw_kstr(w, "name", tmp);
    jw_kstr(w, "brand", k_brands[sp->brand]);
    jw_kmoney(w, "price", price_in(sp, s->currency));
    if (qty)
        jw_ku64(w, "quantity", qty);
    if (position)
        jw_ku64(w, "position", position);
}

static uint64_t cart_subtotal(ff_simgen *g, sim_session *s)
{
    uint64_t sum = 0;
    for (uint32_t i = 0; i < s->n_cart; i++)
        sum += price_in(&g->products[s->cart[i].product], s->currency) * s->cart[i].qty;
    return sum;
}

static void w_cart_products(ff_simgen *g, sim_session *s, jw *w)
{
    jw_kopen(w, "products", '[');
    for (uint32_t i = 0; i < s->n_cart; i++) {
        jw_sep(w);
        jw_open(w, '{');
        w_product_fields(g, s, w, s->cart[i].product, s->cart[i].qty, i + 1);
        jw_close(w, '}');
    }
    jw_close(w, ']');
}

static void w_cart_id(ff_simgen *g, sim_session *s, jw *w)
{
    char tmp[48];
    snprintf(tmp, sizeof tmp, "cart-%s-%llu", g->order_prefix, (unsigned long long)s->serial);
    jw_kstr(w, "cart_id", tmp);
}

static void w_order_ids(ff_simgen *g, sim_session *s, jw *w)
{
    char tmp[48];
    snprintf(tmp, sizeof tmp, "chk-%s-%llu", g->order_prefix, (unsigned long long)s->order_no);
    jw_kstr(w, "checkout_id", tmp);
    snprintf(tmp, sizeof tmp, "ord-%s-%llu", g->order_prefix, (unsigned long long)s->order_no);
    jw_kstr(w, "order_id", tmp);
}

static void track_begin(ff_simgen *g, sim_session *s, jw *w, const char *event)
{
    w_header(g, s, w, "track");
    jw_kstr(w, "event", event);
    jw_kopen(w, "properties", '{');
}

static void track_end(ff_simgen *g, sim_session *s, jw *w)
{
    jw_close(w, '}'); /* properties */
    w_context(g, s, w, false);
    jw_close(w, '}');
}

static void cart_add(sim_session *s, uint32_t p, uint32_t qty)
{
    for (uint32_t i = 0; i < s->n_cart; i++) {
        if (s->cart[i].product == p) {
            s->cart[i].qty += qty;
            return;
        }
    }
    if (s->n_cart < MAX_CART) {
        s->cart[s->n_cart].product = p;
        s->cart[s->n_cart].qty = qty;
        s->n_cart++;
    }
}

static void render_page(ff_simgen *g, sim_session *s, jw *w, const sim_act *a)
{
    bool first = s->n_visits == 0;
    set_page(g, s, (page_kind)a->a, a->b);
    w_header(g, s, w, "page");
    jw_kstr(w, "name", page_name((page_kind)a->a));
    jw_kopen(w, "properties", '{');
    jw_kstr(w, "path", s->path);
    jw_kstr(w, "referrer", s->referrer_url);
    if (s->search[0])
        jw_kstr(w, "search", s->search);
    jw_kstr(w, "title", s->title);
    jw_kstr(w, "url", s->url);
    if (a->a == PG_LIST)
        jw_kstr(w, "category", k_cats[a->b].name);
    jw_close(w, '}');
    w_context(g, s, w, first);
    jw_close(w, '}');
}

static void render_identify(ff_simgen *g, sim_session *s, jw *w, bool signup)
{
    char tmp[96];
    uint64_t h = user_hash(g, s->user, 0x6e616d65ull);
    uint32_t fi = (uint32_t)(h % N_OF(k_first)), li = (uint32_t)((h >> 16) % N_OF(k_last));
    if (signup)
        g->users[s->user] |= USER_REGISTERED;
    s->logged_in = true; /* userId from this message on */
    w_header(g, s, w, "identify");
    jw_kopen(w, "traits", '{');
    snprintf(tmp, sizeof tmp, "%s.%s%u@example.com", k_first_ascii[fi], k_last_ascii[li], s->user);
    jw_kstr(w, "email", tmp);
    jw_kstr(w, "firstName", k_first[fi]);
    jw_kstr(w, "lastName", k_last[li]);
    snprintf(tmp, sizeof tmp, "%s %s", k_first[fi], k_last[li]);
    jw_kstr(w, "name", tmp);
    if (signup) {
        char ts[32];
        ff_clock_format_rfc3339(g->now_ms, ts);
        jw_kstr(w, "createdAt", ts);
    } else {
        /* Registered some day in the two years before 2024-06-01. */
        char ts[32];
        int64_t day0 = ff_clock_days_from_civil(2024, 6, 1) - (int64_t)((h >> 32) % 730);
        ff_clock_format_rfc3339(day0 * 86400000 + (int64_t)((h >> 8) % 86400) * 1000, ts);
        jw_kstr(w, "createdAt", ts);
    }
    jw_kstr(w, "plan", (h >> 48) % 10 == 0 ? "member-plus" : "member");
    jw_close(w, '}');
    w_context(g, s, w, false);
    jw_close(w, '}');
}

static const char *pick_decline(ff_simgen *g)
{
    if (ff_simgen_anomaly_active(g) && ff_simrng_chance(&g->rng, 850))
        return "processing_error";
    return k_declines[pick_weighted(&g->rng, k_decline_w, N_OF(k_decline_w))];
}

static void render_pay(ff_simgen *g, sim_session *s, jw *w)
{
    uint64_t sub = cart_subtotal(g, s);
    uint64_t ship = sub >= 5000 ? 0 : 499;
    uint64_t tax = sub * k_currencies[s->currency].tax_pct / 100;
    uint32_t fail_pm =
        ff_simgen_anomaly_active(g) ? FF_SIM_ANOMALY_FAIL_PERMILLE : FF_SIM_PAYMENT_FAIL_PERMILLE;
    bool fail = ff_simrng_chance(&g->rng, fail_pm);
    s->pay_attempts++;
    if (fail) {
        g->counts.n_payment_failures++;
        track_begin(g, s, w, "Payment Failed");
        w_order_ids(g, s, w);
        jw_kstr(w, "payment_method", k_pay_methods[s->pay_method]);
        jw_kstr(w, "decline_code", pick_decline(g));
        jw_kmoney(w, "amount", sub + ship + tax);
        jw_kstr(w, "currency", k_currencies[s->currency].code);
        jw_ku64(w, "attempt", s->pay_attempts);
        track_end(g, s, w);
        if (s->pay_attempts < MAX_PAY_ATTEMPTS && ff_simrng_chance(&g->rng, 550)) {
            uint32_t m = (s->pay_method + 1 + ff_simrng_below(&g->rng, N_OF(k_pay_methods) - 1)) %
                         N_OF(k_pay_methods);
            push(s, A_CLICK, 2, 0); /* payment-method-tab */
            push(s, A_PAYINFO, m, 0);
            push(s, A_CLICK, 0, 0); /* pay-button */
            push(s, A_PAY, 0, 0);
        }
        /* else: the transition table of PG_PAYMENT sends them to the cart or away */
        return;
    }
    g->counts.n_orders++;
    if (s->currency == 0)
        g->counts.revenue_cents_usd += sub;
    track_begin(g, s, w, "Order Completed");
    w_order_ids(g, s, w);
    jw_kstr(w, "affiliation", SHOP_NAME);
    jw_kmoney(w, "subtotal", sub);
    jw_kmoney(w, "total", sub + ship + tax);
    jw_kmoney(w, "revenue", sub);
    jw_kmoney(w, "shipping", ship);
    jw_kmoney(w, "tax", tax);
    jw_kstr(w, "currency", k_currencies[s->currency].code);
    jw_kstr(w, "payment_method", k_pay_methods[s->pay_method]);
    jw_kstr(w, "shipping_method", k_ship_methods[s->ship_method]);
    w_cart_products(g, s, w);
    track_end(g, s, w);
    /* The order is closed: invariant 2 (one Order Completed per order_id). */
    s->n_cart = 0;
    s->in_checkout = false;
    plan_visit(g, s, PG_CONFIRM, 0);
}

/* Render a; returns false when a renders no message (A_END). */
static bool render(ff_simgen *g, sim_session *s, jw *w, const sim_act *a)
{
    char tmp[160];
    ff_simrng *r = &g->rng;
    switch ((act_kind)a->kind) {
    case A_END:
        s->ended = true;
        return false;
    case A_PAGE:
        render_page(g, s, w, a);
        break;
    case A_SEARCHED:
        track_begin(g, s, w, "Products Searched");
        jw_kstr(w, "query", k_queries[a->a].text);
        track_end(g, s, w);
        break;
    case A_LIST_VIEWED: {
        uint32_t cat = a->a, n = g->cat_off[cat + 1] - g->cat_off[cat];
        track_begin(g, s, w, "Product List Viewed");
        snprintf(tmp, sizeof tmp, "cat-%s", k_cats[cat].slug);
        jw_kstr(w, "list_id", tmp);
        jw_kstr(w, "category", k_cats[cat].name);
        jw_kstr(w, "currency", k_currencies[s->currency].code);
        jw_kopen(w, "products", '[');
        for (uint32_t i = 0; i < n && i < 4; i++) {
            jw_sep(w);
            jw_open(w, '{');
            w_product_fields(g, s, w, g->cat_products[g->cat_off[cat] + i], 0, i + 1);
            jw_close(w, '}');
        }
        jw_close(w, ']');
        track_end(g, s, w);
        break;
    }
    case A_PRODUCT_CLICKED:
    case A_PRODUCT_VIEWED:
        track_begin(g, s, w, a->kind == A_PRODUCT_VIEWED ? "Product Viewed" : "Product Clicked");
        w_product_fields(g, s, w, a->a, 0, 0);
        jw_kstr(w, "currency", k_currencies[s->currency].code);
        if (a->kind == A_PRODUCT_VIEWED) {
            jw_kstr(w, "url", s->url);
        }
        track_end(g, s, w);
        break;
    case A_SCROLL:
        track_begin(g, s, w, "Page Scrolled");
        jw_ku64(w, "depth", a->a);
        track_end(g, s, w);
        break;
    case A_CLICK: {
        const char *el = k_elems[s->page][a->a % 5];
        track_begin(g, s, w, "Element Clicked");
        jw_kstr(w, "element", el ? el : "nav-menu");
        track_end(g, s, w);
        break;
    }
    case A_TIME:
        track_begin(g, s, w, "Time On Page");
        jw_ku64(w, "seconds", a->a);
        track_end(g, s, w);
        break;
    case A_ADD:
        cart_add(s, a->a, a->b);
        track_begin(g, s, w, "Product Added");
        w_cart_id(g, s, w);
        w_product_fields(g, s, w, a->a, a->b, 0);
        jw_kstr(w, "currency", k_currencies[s->currency].code);
        track_end(g, s, w);
        break;
    case A_REMOVE: {
        uint32_t slot = a->a < s->n_cart ? a->a : 0;
        FF_VERIFY(s->n_cart > 0); /* planned only with a non-empty cart */
        sim_item it = s->cart[slot];
        s->cart[slot] = s->cart[--s->n_cart];
        track_begin(g, s, w, "Product Removed");
        w_cart_id(g, s, w);
        w_product_fields(g, s, w, it.product, it.qty, 0);
        jw_kstr(w, "currency", k_currencies[s->currency].code);
        track_end(g, s, w);
        break;
    }
    case A_CART_VIEWED:
        track_begin(g, s, w, "Cart Viewed");
        w_cart_id(g, s, w);
        w_cart_products(g, s, w);
        track_end(g, s, w);
        break;
    case A_CHECKOUT: {
        uint64_t sub = cart_subtotal(g, s);
        s->order_no = ++g->n_checkouts;
        s->in_checkout = true;
        s->pay_attempts = 0;
        track_begin(g, s, w, "Checkout Started");
        w_order_ids(g, s, w);
        jw_kmoney(w, "value", sub);
        jw_kmoney(w, "revenue", sub);
        jw_kmoney(w, "shipping", sub >= 5000 ? 0 : 499);
        jw_kmoney(w, "tax", sub * k_currencies[s->currency].tax_pct / 100);
        jw_kstr(w, "currency", k_currencies[s->currency].code);
        w_cart_products(g, s, w);
        track_end(g, s, w);
        break;
    }
    case A_PAYINFO:
        s->pay_method = (uint8_t)a->a;
        track_begin(g, s, w, "Payment Info Entered");
        w_order_ids(g, s, w);
        jw_ku64(w, "step", 2);
        jw_kstr(w, "shipping_method", k_ship_methods[s->ship_method]);
        jw_kstr(w, "payment_method", k_pay_methods[s->pay_method]);
        track_end(g, s, w);
        break;
    case A_PAY:
        render_pay(g, s, w);
        break;
    case A_IDENTIFY:
        render_identify(g, s, w, a->a == 1);
        break;
    case A_SIGNED_IN:
        track_begin(g, s, w, "Signed In");
        user_id(s->user, tmp, sizeof tmp);
        jw_kstr(w, "username", tmp);
        jw_kstr(w, "method", ff_simrng_chance(r, 800) ? "password" : "google");
        track_end(g, s, w);
        break;
    case A_SIGNED_UP:
        track_begin(g, s, w, "Signed Up");
        jw_kstr(w, "method", ff_simrng_chance(r, 700) ? "email" : "google");
        jw_kstr(w, "type", s->in_checkout || s->n_cart ? "checkout" : "organic");
        track_end(g, s, w);
        break;
    case A_WISHLIST:
        track_begin(g, s, w, "Product Added to Wishlist");
        snprintf(tmp, sizeof tmp, "wl-%s-%u", g->order_prefix, s->user);
        jw_kstr(w, "wishlist_id", tmp);
        jw_kstr(w, "wishlist_name", "My Wishlist");
        w_product_fields(g, s, w, a->a, 0, 0);
        jw_kstr(w, "currency", k_currencies[s->currency].code);
        track_end(g, s, w);
        break;
    case A_SHARE:
        track_begin(g, s, w, "Product Shared");
        jw_kstr(w, "share_via", k_share_via[ff_simrng_below(r, N_OF(k_share_via))]);
        w_product_fields(g, s, w, a->a, 0, 0);
        jw_kstr(w, "url", s->url);
        track_end(g, s, w);
        break;
    case A_REVIEW: {
        static const uint32_t stars_w[] = {0, 6, 5, 10, 30, 49};
        track_begin(g, s, w, "Product Reviewed");
        product_id(a->a, tmp, sizeof tmp);
        jw_kstr(w, "product_id", tmp);
        snprintf(tmp, sizeof tmp, "rev-%s-%llu", g->order_prefix,
                 (unsigned long long)++g->n_reviews);
        jw_kstr(w, "review_id", tmp);
        jw_kstr(w, "review_body", k_review_bodies[ff_simrng_below(r, N_OF(k_review_bodies))]);
        jw_ku64(w, "rating", pick_weighted(r, stars_w, N_OF(stars_w)));
        track_end(g, s, w);
        break;
    }
    }
    s->n_events++;
    return true;
}

ff_rc ff_simgen_next(ff_simgen *g, int64_t now_ms, ff_buf *out)
{
    if (!g->have_t0) {
        g->have_t0 = true;
        g->t0_ms = now_ms;
    }
    g->now_ms = now_ms;
    /* Each round either renders a message or ends a session; a fresh session
     * always renders its landing page, so two rounds per message suffice. */
    for (int round = 0; round < 1000; round++) {
        sim_session *s = &g->sessions[ff_simrng_below(&g->rng, g->o.n_sessions)];
        if (!s->live)
            session_start(g, s);
        if (s->q_len == 0)
            plan_next(g, s);
        sim_act a = s->q[s->q_head];
        s->q_head = (s->q_head + 1) % QUEUE_CAP;
        s->q_len--;
        ff_buf_reset(&g->scratch);
        jw w = {.b = &g->scratch};
        bool emitted = render(g, s, &w, &a);
        if (s->ended) {
            session_end(g, s);
            continue;
        }
        if (!emitted)
            continue;
        if (w.rc != FF_OK)
            return w.rc;
        return ff_buf_add(out, g->scratch.data, g->scratch.len);
    }
    FF_PANIC("sim: generator made no message in 1000 rounds");
}
