/* test_collect_vocab.c -- Segment / GA4 / ff: names onto the canonical vocabulary. */
#include <string.h>

#include "collect/ff_collect_int.h"
#include "ff_test.h"

static const char *canon(const char *name)
{
    size_t n;
    const char *c = ff_vocab_canonical(name, strlen(name), &n);
    if (c)
        FF_CHECK_EQ(n, strlen(c));
    return c ? c : "<none>";
}

static void test_map(void)
{
    static const char *const pairs[][2] = {
        /* Segment e-commerce v2 */
        {"Products Searched", "products_searched"},
        {"Product List Viewed", "product_list_viewed"},
        {"Product List Filtered", "product_list_filtered"},
        {"Promotion Viewed", "promotion_viewed"},
        {"Promotion Clicked", "promotion_clicked"},
        {"Product Clicked", "product_clicked"},
        {"Product Viewed", "product_viewed"},
        {"Product Added", "product_added"},
        {"Product Removed", "product_removed"},
        {"Cart Viewed", "cart_viewed"},
        {"Checkout Started", "checkout_started"},
        {"Checkout Step Viewed", "checkout_step_viewed"},
        {"Checkout Step Completed", "checkout_step_completed"},
        {"Payment Info Entered", "payment_info_entered"},
        {"Order Completed", "order_completed"},
        {"Order Updated", "order_updated"},
        {"Order Refunded", "order_refunded"},
        {"Order Cancelled", "order_cancelled"},
        {"Coupon Entered", "coupon_entered"},
        {"Coupon Applied", "coupon_applied"},
        {"Coupon Denied", "coupon_denied"},
        {"Coupon Removed", "coupon_removed"},
        {"Product Added to Wishlist", "product_added_to_wishlist"},
        {"Product Removed from Wishlist", "product_removed_from_wishlist"},
        {"Wishlist Product Added to Cart", "wishlist_product_added_to_cart"},
        {"Product Shared", "product_shared"},
        {"Cart Shared", "cart_shared"},
        {"Product Reviewed", "product_reviewed"},
        {"Signed In", "signed_in"},
        {"Signed Up", "signed_up"},
        {"Signed Out", "signed_out"},
        {"Payment Failed", "payment_failed"},
        /* GA4 */
        {"search", "products_searched"},
        {"view_search_results", "products_searched"},
        {"view_item_list", "product_list_viewed"},
        {"view_promotion", "promotion_viewed"},
        {"select_promotion", "promotion_clicked"},
        {"select_item", "product_clicked"},
        {"view_item", "product_viewed"},
        {"add_to_cart", "product_added"},
        {"remove_from_cart", "product_removed"},
        {"view_cart", "cart_viewed"},
        {"begin_checkout", "checkout_started"},
        {"add_shipping_info", "shipping_info_entered"},
        {"add_payment_info", "payment_info_entered"},
        {"purchase", "order_completed"},
        {"refund", "order_refunded"},
        {"add_to_wishlist", "product_added_to_wishlist"},
        {"login", "signed_in"},
        {"sign_up", "signed_up"},
        {"page_view", "page_viewed"},
        {"screen_view", "screen_viewed"},
        /* ff: payment extensions, with and without the prefix */
        {"ff:payment_attempted", "payment_attempted"},
        {"payment_authorized", "payment_authorized"},
        {"FF:Payment Failed", "payment_failed"},
        {"payment_3ds_challenged", "payment_3ds_challenged"},
        {"Payment 3DS Completed", "payment_3ds_completed"},
        {"payment_captured", "payment_captured"},
        {"Chargeback Opened", "chargeback_opened"},
        /* spelling variants */
        {"order_completed", "order_completed"},
        {"ORDER COMPLETED", "order_completed"},
        {"order-completed", "order_completed"},
        {"  Order   Completed ", "order_completed"},
        {"Order Canceled", "order_cancelled"},
        {"$pageview", "page_viewed"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        FF_CHECK_STR(canon(pairs[i][0]), pairs[i][1]);
    }
    /* unknown names are not mapped (kept as sent by the caller) */
    const char *unknown[] = {"Song Played",
                             "purchases",
                             "purchas",
                             "view",
                             "",
                             "ff:",
                             "Order Completed Twice",
                             "\xE8\xB4\xAD\xE4\xB9\xB0",
                             "a_very_long_event_name_that_is_not_in_the_table_at_all_really"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        FF_CHECK_STR(canon(unknown[i]), "<none>");
}

static void test_classes(void)
{
    FF_CHECK(ff_vocab_table_sorted());
    FF_CHECK(ff_vocab_class("order_completed", 15) & FF_EV_REVENUE);
    FF_CHECK(!(ff_vocab_class("order_completed", 15) & FF_EV_NEG_OK));
    FF_CHECK(ff_vocab_class("order_refunded", 14) & FF_EV_NEG_OK);
    FF_CHECK(ff_vocab_class("chargeback_opened", 17) & FF_EV_NEG_OK);
    FF_CHECK(ff_vocab_class("payment_failed", 14) & FF_EV_REVENUE);
    FF_CHECK(ff_vocab_class("product_viewed", 14) & FF_EV_PRODUCT);
    FF_CHECK_EQ(ff_vocab_class("product_viewed", 14) & FF_EV_REVENUE, 0);
    FF_CHECK_EQ(ff_vocab_class("Song Played", 11), 0);
}

int main(void)
{
    FF_RUN(test_map);
    FF_RUN(test_classes);
    FF_DONE();
}
