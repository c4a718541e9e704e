/* ff_vocab.c -- the event vocabulary: Segment e-commerce v2 and GA4 names
 * onto Footfall's canonical snake_case names (docs/api.md, "Event names").
 *
 * A name is normalised for lookup only: an "ff:" prefix is dropped, ASCII
 * letters are lowercased and runs of spaces, dashes and underscores become
 * one underscore. Segment's Title Case names then equal the canonical name
 * ("Order Completed" -> order_completed) and GA4 names are aliases
 * (purchase -> order_completed). A name outside the table is stored exactly
 * as sent. The table is sorted by key (a unit test checks it) and searched by
 * bisection: about six comparisons per event.
 */
#include <string.h>

#include "collect/ff_collect_int.h"

typedef struct vocab_entry {
    const char *key;
    const char *canonical;
    unsigned cls;
} vocab_entry;

static const vocab_entry vocab[] = {
    {"$pageview", "page_viewed", 0},
    {"$screen", "screen_viewed", 0},
    {"add_payment_info", "payment_info_entered", 0},
    {"add_shipping_info", "shipping_info_entered", 0},
    {"add_to_cart", "product_added", FF_EV_PRODUCT},
    {"add_to_wishlist", "product_added_to_wishlist", FF_EV_PRODUCT},
    {"begin_checkout", "checkout_started", FF_EV_REVENUE},
    {"cart_shared", "cart_shared", 0},
    {"cart_viewed", "cart_viewed", 0},
    {"chargeback_opened", "chargeback_opened", FF_EV_REVENUE | FF_EV_NEG_OK},
    {"checkout_started", "checkout_started", FF_EV_REVENUE},
    {"checkout_step_completed", "checkout_step_completed", 0},
    {"checkout_step_viewed", "checkout_step_viewed", 0},
    {"coupon_applied", "coupon_applied", 0},
    {"coupon_denied", "coupon_denied", 0},
    {"coupon_entered", "coupon_entered", 0},
    {"coupon_removed", "coupon_removed", 0},
    {"login", "signed_in", 0},
    {"logout", "signed_out", 0},
    {"order_canceled", "order_cancelled", FF_EV_REVENUE},
    {"order_cancelled", "order_cancelled", FF_EV_REVENUE},
    {"order_completed", "order_completed", FF_EV_REVENUE},
    {"order_refunded", "order_refunded", FF_EV_REVENUE | FF_EV_NEG_OK},
    {"order_updated", "order_updated", FF_EV_REVENUE},
    {"page_view", "page_viewed", 0},
    {"page_viewed", "page_viewed", 0},
    {"pageview", "page_viewed", 0},
    {"payment_3ds_challenged", "payment_3ds_challenged", FF_EV_REVENUE},
    {"payment_3ds_completed", "payment_3ds_completed", FF_EV_REVENUE},
    {"payment_attempted", "payment_attempted", FF_EV_REVENUE},
    {"payment_authorized", "payment_authorized", FF_EV_REVENUE},
    {"payment_captured", "payment_captured", FF_EV_REVENUE},
    {"payment_failed", "payment_failed", FF_EV_REVENUE},
    {"payment_info_entered", "payment_info_entered", 0},
    {"product_added", "product_added", FF_EV_PRODUCT},
    {"product_added_to_wishlist", "product_added_to_wishlist", FF_EV_PRODUCT},
    {"product_clicked", "product_clicked", FF_EV_PRODUCT},
    {"product_list_filtered", "product_list_filtered", 0},
    {"product_list_viewed", "product_list_viewed", 0},
    {"product_removed", "product_removed", FF_EV_PRODUCT},
    {"product_removed_from_wishlist", "product_removed_from_wishlist", FF_EV_PRODUCT},
    {"product_reviewed", "product_reviewed", FF_EV_PRODUCT},
    {"product_shared", "product_shared", FF_EV_PRODUCT},
    {"product_viewed", "product_viewed", FF_EV_PRODUCT},
    {"products_searched", "products_searched", 0},
    {"promotion_clicked", "promotion_clicked", 0},
    {"promotion_viewed", "promotion_viewed", 0},
    {"purchase", "order_completed", FF_EV_REVENUE},
    {"refund", "order_refunded", FF_EV_REVENUE | FF_EV_NEG_OK},
    {"remove_from_cart", "product_removed", FF_EV_PRODUCT},
    {"screen_view", "screen_viewed", 0},
    {"screen_viewed", "screen_viewed", 0},
    {"search", "products_searched", 0},
    {"select_item", "product_clicked", FF_EV_PRODUCT},
    {"select_promotion", "promotion_clicked", 0},
    {"shipping_info_entered", "shipping_info_entered", 0},
    {"sign_up", "signed_up", 0},
    {"signed_in", "signed_in", 0},
    {"signed_out", "signed_out", 0},
    {"signed_up", "signed_up", 0},
    {"view_cart", "cart_viewed", 0},
    {"view_item", "product_viewed", FF_EV_PRODUCT},
    {"view_item_list", "product_list_viewed", 0},
    {"view_promotion", "promotion_viewed", 0},
    {"view_search_results", "products_searched", 0},
    {"wishlist_product_added_to_cart", "wishlist_product_added_to_cart", FF_EV_PRODUCT},
};

#define N_VOCAB (sizeof vocab / sizeof vocab[0])
#define MAX_KEY 40

static const vocab_entry *find(const char *k, size_t n)
{
    size_t lo = 0, hi = N_VOCAB;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strncmp(k, vocab[mid].key, n);
        if (c == 0 && vocab[mid].key[n] != '\0')
            c = -1; /* k is a proper prefix of the key: k sorts first */
        if (c == 0)
            return &vocab[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const char *ff_vocab_canonical(const char *name, size_t len, size_t *out_len)
{
    char k[MAX_KEY];
    size_t n = 0;
    size_t i = 0;
    if (len >= 3 && (name[0] == 'f' || name[0] == 'F') && (name[1] == 'f' || name[1] == 'F') &&
        name[2] == ':')
        i = 3;
    while (i < len && (name[i] == ' ' || name[i] == '_' || name[i] == '-'))
        i++;
    bool pending_sep = false;
    for (; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == ' ' || c == '_' || c == '-') {
            pending_sep = true;
            continue;
        }
        if (c >= 0x80 || c < 0x20)
            return NULL; /* every table key is printable ASCII */
        if (pending_sep) {
            if (n >= MAX_KEY)
                return NULL;
            k[n++] = '_';
            pending_sep = false;
        }
        if (n >= MAX_KEY)
            return NULL;
        k[n++] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
    }
    if (n == 0)
        return NULL;
    const vocab_entry *e = find(k, n);
    if (!e)
        return NULL;
    *out_len = strlen(e->canonical);
    return e->canonical;
}

unsigned ff_vocab_class(const char *canonical, size_t len)
{
    if (len >= MAX_KEY)
        return 0;
    const vocab_entry *e = find(canonical, len);
    return e ? e->cls : 0;
}

/* For the unit test: the table must stay sorted for bisection. */
bool ff_vocab_table_sorted(void)
{
    for (size_t i = 1; i < N_VOCAB; i++)
        if (strcmp(vocab[i - 1].key, vocab[i].key) >= 0)
            return false;
    return true;
}
