/* ff_sql_out.c -- output formats of a query result: ClickHouse JSON, CSVWithNames, text table.
 *
 * WHAT/DESIGN: see ff_sql_exec.h. Values print as ClickHouse prints them in text formats:
 * Date 2024-03-01, DateTime 2024-03-01 12:00:00, DateTime64(3) 2024-03-01 12:00:00.000,
 * Decimal without trailing zeros (output_format_decimal_trailing_zeros = 0), Float64 as the
 * shortest text that reads back to the same double (inf, -inf, nan), arrays as [a,b] with
 * strings quoted '...'. A DateTime or DateTime64 column whose type names a zone
 * (DateTime('Europe/Berlin'), from a time zone argument) prints that zone's wall time.
 * INVARIANTS: a failed write may leave a partial text in out (the caller resets it).
 * THREADING: pure functions. OWNERSHIP: out is the caller's.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ff_mem.h"
#include "core/ff_tz.h"
#include "sql/ff_sql_exec.h"
#include "store/ff_schema.h"

static void civil(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static ff_rc put_f64(double f, ff_buf *out)
{
    if (isnan(f))
        return ff_buf_adds(out, "nan");
    if (isinf(f))
        return ff_buf_adds(out, f < 0 ? "-inf" : "inf");
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, f);
        if (strtod(tmp, NULL) == f)
            break;
    }
    return ff_buf_adds(out, tmp);
}

static ff_rc put_time(int64_t secs, int ms, int with_ms, ff_buf *out)
{
    int64_t days = floordiv(secs, 86400), sod = secs - days * 86400, y;
    unsigned m, d;
    civil(days, &y, &m, &d);
    if (with_ms)
        return ff_buf_printf(out, "%04lld-%02u-%02u %02d:%02d:%02d.%03d", (long long)y, m, d,
                             (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), ms);
    return ff_buf_printf(out, "%04lld-%02u-%02u %02d:%02d:%02d", (long long)y, m, d,
                         (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
}

static ff_rc put_text(const ff_sql_value *v, int in_array, const ff_tz *tz, ff_buf *out)
{
    switch (v->t) {
    case FF_SQL_V_NULL:
        return ff_buf_adds(out, in_array ? "NULL" : "\\N");
    case FF_SQL_V_I64:
        return ff_buf_add_i64(out, v->v.i);
    case FF_SQL_V_U64:
        return ff_buf_add_u64(out, v->v.u);
    case FF_SQL_V_F64:
        return put_f64(v->v.f, out);
    case FF_SQL_V_DEC: {
        char tmp[32];
        size_t n = ff_decimal_format(v->v.i, tmp);
        return ff_buf_add(out, tmp, n);
    }
    case FF_SQL_V_STR:
        if (!in_array)
            return ff_buf_add(out, v->v.s, v->len);
        {
            ff_rc rc = ff_buf_addc(out, '\'');
            for (uint32_t i = 0; rc == FF_OK && i < v->len; i++) {
                char c = v->v.s[i];
                if (c == '\'' || c == '\\')
                    rc = ff_buf_addc(out, '\\');
                if (rc == FF_OK)
                    rc = ff_buf_addc(out, c);
            }
            return rc ? rc : ff_buf_addc(out, '\'');
        }
    case FF_SQL_V_DATE: {
        int64_t y;
        unsigned m, d;
        civil(v->v.i, &y, &m, &d);
        return ff_buf_printf(out, "%04lld-%02u-%02u", (long long)y, m, d);
    }
    case FF_SQL_V_DATETIME: /* the wall time of the column's zone, as ClickHouse prints it */
        return put_time(v->v.i + (tz ? ff_tz_offset(tz, v->v.i) : 0), 0, 0, out);
    case FF_SQL_V_DT64: {
        int64_t s = floordiv(v->v.i, 1000);
        return put_time(s + (tz ? ff_tz_offset(tz, s) : 0), (int)(v->v.i - s * 1000), 1, out);
    }
    case FF_SQL_V_INTERVAL:
        return ff_buf_add_i64(out, v->v.i);
    case FF_SQL_V_ARRAY: {
        ff_rc rc = ff_buf_addc(out, '[');
        for (uint32_t i = 0; rc == FF_OK && i < v->len; i++) {
            if (i)
                rc = ff_buf_addc(out, ',');
            if (rc == FF_OK)
                rc = put_text(&v->v.a[i], 1, tz, out);
        }
        return rc ? rc : ff_buf_addc(out, ']');
    }
    default:
        return FF_EINVAL;
    }
}

ff_rc ff_sql_value_text(const ff_sql_value *v, ff_buf *out)
{
    return put_text(v, 0, NULL, out);
}

ff_rc ff_sql_value_text_tz(const ff_sql_value *v, const ff_tz *tz, ff_buf *out)
{
    return put_text(v, 0, tz, out);
}

static ff_rc json_str(const char *s, size_t n, ff_buf *out)
{
    ff_rc rc = ff_buf_addc(out, '"');
    for (size_t i = 0; rc == FF_OK && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            rc = ff_buf_printf(out, "\\%c", c);
        else if (c == '\n')
            rc = ff_buf_adds(out, "\\n");
        else if (c == '\t')
            rc = ff_buf_adds(out, "\\t");
        else if (c == '\r')
            rc = ff_buf_adds(out, "\\r");
        else if (c < 0x20 || c == 0x7f)
            rc = ff_buf_printf(out, "\\u%04x", c);
        else
            rc = ff_buf_addc(out, (char)c);
    }
    return rc ? rc : ff_buf_addc(out, '"');
}

/* ClickHouse JSON: 64-bit integers quoted, UInt8..UInt32 bare, Float64 bare (nan/inf as
 * null), Decimal bare, strings/dates quoted. */
static ff_rc json_value(const ff_sql_value *v, const char *type, const ff_tz *tz, ff_buf *out)
{
    switch (v->t) {
    case FF_SQL_V_NULL:
        return ff_buf_adds(out, "null");
    case FF_SQL_V_F64:
        if (isnan(v->v.f) || isinf(v->v.f))
            return ff_buf_adds(out, "null");
        return put_f64(v->v.f, out);
    case FF_SQL_V_DEC:
        return put_text(v, 0, NULL, out);
    case FF_SQL_V_I64:
    case FF_SQL_V_U64: {
        if (type && !strstr(type, "64"))
            return put_text(v, 0, NULL, out);
        ff_rc rc = ff_buf_addc(out, '"');
        rc = rc ? rc : put_text(v, 0, NULL, out);
        return rc ? rc : ff_buf_addc(out, '"');
    }
    case FF_SQL_V_ARRAY: {
        const char *et = NULL;
        if (type && strstr(type, "Array(UInt8)"))
            et = "UInt8";
        ff_rc rc = ff_buf_addc(out, '[');
        for (uint32_t i = 0; rc == FF_OK && i < v->len; i++) {
            if (i)
                rc = ff_buf_addc(out, ',');
            if (rc == FF_OK)
                rc = json_value(&v->v.a[i], et ? et : "Int64", tz, out);
        }
        return rc ? rc : ff_buf_addc(out, ']');
    }
    case FF_SQL_V_STR:
        return json_str(v->v.s, v->len, out);
    default: {
        ff_buf tmp;
        ff_buf_init(&tmp, 1024);
        ff_rc rc = put_text(v, 0, tz, &tmp);
        if (rc == FF_OK)
            rc = json_str(tmp.data, tmp.len, out);
        ff_buf_fini(&tmp);
        return rc;
    }
    }
}

static ff_rc write_json(const ff_sql_result *r, ff_buf *out)
{
    ff_rc rc = ff_buf_adds(out, "{\n\t\"meta\":\n\t[");
    for (uint32_t c = 0; rc == FF_OK && c < r->n_cols; c++) {
        rc = ff_buf_adds(out, c ? ",\n\t\t{\n\t\t\t\"name\": " : "\n\t\t{\n\t\t\t\"name\": ");
        rc = rc ? rc : json_str(r->cols[c].name, strlen(r->cols[c].name), out);
        rc = rc ? rc : ff_buf_adds(out, ",\n\t\t\t\"type\": ");
        rc = rc ? rc : json_str(r->cols[c].type, strlen(r->cols[c].type), out);
        rc = rc ? rc : ff_buf_adds(out, "\n\t\t}");
    }
    rc = rc ? rc : ff_buf_adds(out, "\n\t],\n\n\t\"data\":\n\t[");
    for (uint64_t i = 0; rc == FF_OK && i < r->n_rows; i++) {
        rc = ff_buf_adds(out, i ? ",\n\t\t{" : "\n\t\t{");
        for (uint32_t c = 0; rc == FF_OK && c < r->n_cols; c++) {
            rc = ff_buf_adds(out, c ? ",\n\t\t\t" : "\n\t\t\t");
            rc = rc ? rc : json_str(r->cols[c].name, strlen(r->cols[c].name), out);
            rc = rc ? rc : ff_buf_adds(out, ": ");
            rc = rc ? rc
                    : json_value(ff_sql_result_at(r, i, c), r->cols[c].type, r->cols[c].tz, out);
        }
        rc = rc ? rc : ff_buf_adds(out, "\n\t\t}");
    }
    rc = rc ? rc : ff_buf_adds(out, "\n\t],\n\n\t\"rows\": ");
    rc = rc ? rc : ff_buf_add_u64(out, r->n_rows);
    rc =
        rc ? rc
           : ff_buf_printf(
                 out,
                 ",\n\n\t\"statistics\":\n\t{\n\t\t\"elapsed\": %.6f,\n\t\t\"rows_read\": "
                 "%llu,\n\t\t\"bytes_read\": %llu\n\t}\n}\n",
                 r->elapsed_s, (unsigned long long)r->rows_read, (unsigned long long)r->bytes_read);
    return rc;
}

static ff_rc csv_field(const char *s, size_t n, ff_buf *out)
{
    ff_rc rc = ff_buf_addc(out, '"');
    for (size_t i = 0; rc == FF_OK && i < n; i++) {
        if (s[i] == '"')
            rc = ff_buf_addc(out, '"');
        if (rc == FF_OK)
            rc = ff_buf_addc(out, s[i]);
    }
    return rc ? rc : ff_buf_addc(out, '"');
}

static ff_rc write_csv(const ff_sql_result *r, ff_buf *out)
{
    ff_rc rc = FF_OK;
    for (uint32_t c = 0; rc == FF_OK && c < r->n_cols; c++) {
        if (c)
            rc = ff_buf_addc(out, ',');
        rc = rc ? rc : csv_field(r->cols[c].name, strlen(r->cols[c].name), out);
    }
    rc = rc ? rc : ff_buf_addc(out, '\n');
    ff_buf tmp;
    ff_buf_init(&tmp, (size_t)1 << 40);
    for (uint64_t i = 0; rc == FF_OK && i < r->n_rows; i++) {
        for (uint32_t c = 0; rc == FF_OK && c < r->n_cols; c++) {
            const ff_sql_value *v = ff_sql_result_at(r, i, c);
            if (c)
                rc = ff_buf_addc(out, ',');
            if (rc != FF_OK)
                break;
            if (v->t == FF_SQL_V_NULL || v->t == FF_SQL_V_I64 || v->t == FF_SQL_V_U64 ||
                v->t == FF_SQL_V_F64 || v->t == FF_SQL_V_DEC) {
                rc = put_text(v, 0, NULL, out);
            } else {
                ff_buf_reset(&tmp);
                rc = put_text(v, 0, r->cols[c].tz, &tmp);
                rc = rc ? rc : csv_field(tmp.data ? tmp.data : "", tmp.len, out);
            }
        }
        rc = rc ? rc : ff_buf_addc(out, '\n');
    }
    ff_buf_fini(&tmp);
    return rc;
}

/* Aligned text: a header, a rule, one line per row; numbers right-aligned, the rest left. */
static ff_rc write_table(const ff_sql_result *r, ff_buf *out)
{
    size_t n = (size_t)r->n_rows * r->n_cols;
    char **cell = ff_calloc(n ? n : 1, sizeof *cell);
    size_t *w = ff_calloc(r->n_cols ? r->n_cols : 1, sizeof *w);
    ff_rc rc = (cell && w) ? FF_OK : FF_ENOMEM;
    ff_buf tmp;
    ff_buf_init(&tmp, (size_t)1 << 40);
    for (uint32_t c = 0; rc == FF_OK && c < r->n_cols; c++)
        w[c] = strlen(r->cols[c].name);
    for (size_t k = 0; rc == FF_OK && k < n; k++) {
        ff_buf_reset(&tmp);
        rc = put_text(&r->rows[k], 0, r->cols[k % r->n_cols].tz, &tmp);
        if (rc == FF_OK && !(cell[k] = ff_malloc(tmp.len + 1)))
            rc = FF_ENOMEM;
        if (rc == FF_OK) {
            memcpy(cell[k], tmp.data ? tmp.data : "", tmp.len);
            cell[k][tmp.len] = 0;
        }
        if (rc == FF_OK && tmp.len > w[k % r->n_cols])
            w[k % r->n_cols] = tmp.len;
    }
    for (uint32_t c = 0; rc == FF_OK && c < r->n_cols; c++)
        rc = ff_buf_printf(out, "%s%-*s", c ? " | " : "", (int)w[c], r->cols[c].name);
    rc = rc ? rc : ff_buf_addc(out, '\n');
    for (uint32_t c = 0; rc == FF_OK && c < r->n_cols; c++) {
        rc = ff_buf_adds(out, c ? "-+-" : "");
        for (size_t j = 0; rc == FF_OK && j < w[c]; j++)
            rc = ff_buf_addc(out, '-');
    }
    rc = rc ? rc : ff_buf_addc(out, '\n');
    for (uint64_t i = 0; rc == FF_OK && i < r->n_rows; i++) {
        for (uint32_t c = 0; rc == FF_OK && c < r->n_cols; c++) {
            uint8_t t = r->cols[c].vt;
            int right =
                t == FF_SQL_V_I64 || t == FF_SQL_V_U64 || t == FF_SQL_V_F64 || t == FF_SQL_V_DEC;
            rc = ff_buf_printf(out, right ? "%s%*s" : "%s%-*s", c ? " | " : "", (int)w[c],
                               cell[i * r->n_cols + c]);
        }
        rc = rc ? rc : ff_buf_addc(out, '\n');
    }
    rc = rc ? rc
            : ff_buf_printf(out, "%llu row%s in set. Elapsed: %.3f sec.\n",
                            (unsigned long long)r->n_rows, r->n_rows == 1 ? "" : "s", r->elapsed_s);
    ff_buf_fini(&tmp);
    for (size_t k = 0; cell && k < n; k++)
        ff_free(cell[k]);
    ff_free(cell);
    ff_free(w);
    return rc;
}

ff_rc ff_sql_result_write(const ff_sql_result *res, const char *format, ff_buf *out)
{
    if (!res || !format || !out)
        return FF_EINVAL;
    if (strcmp(format, "json") == 0)
        return write_json(res, out);
    if (strcmp(format, "csv") == 0)
        return write_csv(res, out);
    if (strcmp(format, "table") == 0)
        return write_table(res, out);
    return FF_EINVAL;
}
