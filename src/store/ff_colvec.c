/* ff_colvec.c -- block row access (the vector layout itself is all in ff_colvec.h). */
#include "store/ff_colvec.h"

void ff_block_row(const ff_block *b, uint32_t i, ff_row *out)
{
    ff_row_clear(out);
    for (int c = 0; c < FF_COL_COUNT; c++) {
        const ff_colvec *v = &b->col[c];
        if (v->kind == FF_VEC_NONE || i >= v->n_rows)
            continue;
        if (v->kind == FF_VEC_I64) {
            out->num[c] = v->i64[i];
            if (ff_colvec_is_null(v, i))
                out->null |= FF_COLSET(c);
            else
                out->null &= ~FF_COLSET(c);
        } else {
            uint32_t len;
            const char *p = ff_colvec_str(v, i, &len);
            out->str[c] = (ff_str){p, len};
        }
    }
}
