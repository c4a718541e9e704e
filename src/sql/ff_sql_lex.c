/* ff_sql_lex.c -- query text to tokens, ClickHouse's lexical rules.
 *
 * WHAT: one token per call for the grammar driver, with literals decoded:
 *   - whitespace; comments: -- to end of line, # followed by a space or !,
 *     and slash-star comments, which nest (as in ClickHouse);
 *   - numbers: 123, 0x1F, 0b101, 1.5, .5, 1e-3, 1.; integers are unsigned
 *     64-bit (a minus sign is an operator, folded by the builders); a number
 *     followed directly by a letter is an error, as in ClickHouse; inf and
 *     nan (any case) are float literals;
 *   - 'strings' with ClickHouse escapes (\b \f \r \n \t \0 \a \v \xHH, '' and
 *     \' for a quote, \c for any other c) and raw newlines allowed;
 *   - identifiers [A-Za-z_][A-Za-z0-9_]*, `back quoted` and "double quoted"
 *     (same escapes), at most FF_SQL_MAX_IDENT_BYTES after decoding;
 *   - keywords (any case) from the table below;
 *   - operators ( ) [ ] , ; . + - * / % = == != <> < <= > >= ||.
 *
 * DESIGN: a hand-written scanner over [text, text + len) (no NUL needed).
 * NOT followed by LIKE, ILIKE, IN or BETWEEN becomes one token (NOT_LIKE ...)
 * so the grammar can give it the comparison's priority; that needs one token
 * of lookahead, kept in the context. A '.' before a digit starts a number
 * unless it follows an identifier or a closing bracket (t.1 is not t .1).
 *
 * INVARIANTS: never reads outside the text; every error names the problem
 * and its byte offset (the start of the bad literal or character).
 *
 * THREADING: state lives in the ff_sql_pctx. OWNERSHIP: decoded strings are
 * allocated in the context's arena.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ff_sql_grammar.h"
#include "sql/ff_sql_int.h"

typedef struct kw {
    const char *name;
    int code;
} kw;

/* Sorted by name for bsearch; lower case. */
static const kw KEYWORDS[] = {
    {"and", FF_SQL_TK_AND},
    {"as", FF_SQL_TK_AS},
    {"asc", FF_SQL_TK_ASC},
    {"between", FF_SQL_TK_BETWEEN},
    {"by", FF_SQL_TK_BY},
    {"case", FF_SQL_TK_CASE},
    {"desc", FF_SQL_TK_DESC},
    {"distinct", FF_SQL_TK_DISTINCT},
    {"else", FF_SQL_TK_ELSE},
    {"end", FF_SQL_TK_END},
    {"false", FF_SQL_TK_FALSE},
    {"first", FF_SQL_TK_FIRST},
    {"format", FF_SQL_TK_FORMAT},
    {"from", FF_SQL_TK_FROM},
    {"group", FF_SQL_TK_GROUP},
    {"having", FF_SQL_TK_HAVING},
    {"ilike", FF_SQL_TK_ILIKE},
    {"in", FF_SQL_TK_IN},
    {"interval", FF_SQL_TK_INTERVAL},
    {"is", FF_SQL_TK_IS},
    {"last", FF_SQL_TK_LAST},
    {"like", FF_SQL_TK_LIKE},
    {"limit", FF_SQL_TK_LIMIT},
    {"not", FF_SQL_TK_NOT},
    {"null", FF_SQL_TK_NULL},
    {"nulls", FF_SQL_TK_NULLS},
    {"offset", FF_SQL_TK_OFFSET},
    {"or", FF_SQL_TK_OR},
    {"order", FF_SQL_TK_ORDER},
    {"select", FF_SQL_TK_SELECT},
    {"then", FF_SQL_TK_THEN},
    {"true", FF_SQL_TK_TRUE},
    {"when", FF_SQL_TK_WHEN},
    {"where", FF_SQL_TK_WHERE},
};
#define N_KEYWORDS (sizeof KEYWORDS / sizeof KEYWORDS[0])

static int kw_lookup(const char *s, size_t len)
{
    char low[16];
    if (len == 0 || len >= sizeof low)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        low[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    low[len] = '\0';
    size_t lo = 0, hi = N_KEYWORDS;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(low, KEYWORDS[mid].name);
        if (c == 0)
            return KEYWORDS[mid].code;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return 0;
}

static bool ieq(const char *s, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    if (len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (c != lit[i])
            return false;
    }
    return true;
}

bool ff_sql_is_keyword(const char *s, size_t len)
{
    return kw_lookup(s, len) != 0 || ieq(s, len, "inf") || ieq(s, len, "nan");
}

const char *ff_sql_token_display(int code)
{
    switch (code) {
    case 0:
        return "the end of the query";
    case FF_SQL_TK_SELECT:
        return "SELECT";
    case FF_SQL_TK_DISTINCT:
        return "DISTINCT";
    case FF_SQL_TK_AS:
        return "AS";
    case FF_SQL_TK_FROM:
        return "FROM";
    case FF_SQL_TK_WHERE:
        return "WHERE";
    case FF_SQL_TK_GROUP:
        return "GROUP BY";
    case FF_SQL_TK_BY:
        return "BY";
    case FF_SQL_TK_HAVING:
        return "HAVING";
    case FF_SQL_TK_ORDER:
        return "ORDER BY";
    case FF_SQL_TK_ASC:
        return "ASC";
    case FF_SQL_TK_DESC:
        return "DESC";
    case FF_SQL_TK_NULLS:
        return "NULLS";
    case FF_SQL_TK_FIRST:
        return "FIRST";
    case FF_SQL_TK_LAST:
        return "LAST";
    case FF_SQL_TK_LIMIT:
        return "LIMIT";
    case FF_SQL_TK_OFFSET:
        return "OFFSET";
    case FF_SQL_TK_FORMAT:
        return "FORMAT";
    case FF_SQL_TK_SEMI:
        return "';'";
    case FF_SQL_TK_COMMA:
        return "','";
    case FF_SQL_TK_LP:
        return "'('";
    case FF_SQL_TK_RP:
        return "')'";
    case FF_SQL_TK_LBRACKET:
        return "'['";
    case FF_SQL_TK_RBRACKET:
        return "']'";
    case FF_SQL_TK_DOT:
        return "'.'";
    case FF_SQL_TK_ID:
        return "identifier";
    case FF_SQL_TK_INTEGER:
        return "number";
    case FF_SQL_TK_FLOAT:
        return "number";
    case FF_SQL_TK_STRING:
        return "string";
    case FF_SQL_TK_NULL:
        return "NULL";
    case FF_SQL_TK_TRUE:
        return "TRUE";
    case FF_SQL_TK_FALSE:
        return "FALSE";
    case FF_SQL_TK_CASE:
        return "CASE";
    case FF_SQL_TK_WHEN:
        return "WHEN";
    case FF_SQL_TK_THEN:
        return "THEN";
    case FF_SQL_TK_ELSE:
        return "ELSE";
    case FF_SQL_TK_END:
        return "END";
    case FF_SQL_TK_INTERVAL:
        return "INTERVAL";
    case FF_SQL_TK_OR:
        return "OR";
    case FF_SQL_TK_AND:
        return "AND";
    case FF_SQL_TK_NOT:
        return "NOT";
    case FF_SQL_TK_BETWEEN:
        return "BETWEEN";
    case FF_SQL_TK_NOT_BETWEEN:
        return "NOT BETWEEN";
    case FF_SQL_TK_IS:
        return "IS";
    case FF_SQL_TK_EQ:
        return "'='";
    case FF_SQL_TK_NE:
        return "'!='";
    case FF_SQL_TK_LT:
        return "'<'";
    case FF_SQL_TK_LE:
        return "'<='";
    case FF_SQL_TK_GT:
        return "'>'";
    case FF_SQL_TK_GE:
        return "'>='";
    case FF_SQL_TK_LIKE:
        return "LIKE";
    case FF_SQL_TK_ILIKE:
        return "ILIKE";
    case FF_SQL_TK_NOT_LIKE:
        return "NOT LIKE";
    case FF_SQL_TK_NOT_ILIKE:
        return "NOT ILIKE";
    case FF_SQL_TK_IN:
        return "IN";
    case FF_SQL_TK_NOT_IN:
        return "NOT IN";
    case FF_SQL_TK_CONCAT:
        return "'||'";
    case FF_SQL_TK_PLUS:
        return "'+'";
    case FF_SQL_TK_MINUS:
        return "'-'";
    case FF_SQL_TK_STAR:
        return "'*'";
    case FF_SQL_TK_SLASH:
        return "'/'";
    case FF_SQL_TK_PERCENT:
        return "'%'";
    default:
        return "token";
    }
}

static bool is_ident_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident_char(unsigned char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode one UTF-8 sequence for messages; returns the code point or -1. */
static long utf8_at(const unsigned char *s, size_t n, size_t *used)
{
    unsigned c = s[0];
    size_t k;
    long cp;
    if (c < 0x80) {
        *used = 1;
        return c;
    } else if ((c & 0xE0) == 0xC0) {
        cp = c & 0x1F, k = 1;
    } else if ((c & 0xF0) == 0xE0) {
        cp = c & 0x0F, k = 2;
    } else if ((c & 0xF8) == 0xF0) {
        cp = c & 0x07, k = 3;
    } else {
        *used = 1;
        return -1;
    }
    if (k >= n) {
        *used = 1;
        return -1;
    }
    for (size_t j = 1; j <= k; j++) {
        if ((s[j] & 0xC0) != 0x80) {
            *used = 1;
            return -1;
        }
        cp = cp << 6 | (s[j] & 0x3F);
    }
    static const long min_cp[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        *used = 1;
        return -1;
    }
    *used = k + 1;
    return cp;
}

/* Skips whitespace and comments. Returns false after recording an error. */
static bool skip_space(ff_sql_pctx *px)
{
    const char *t = px->text;
    uint32_t n = px->len;
    while (px->off < n) {
        unsigned char c = (unsigned char)t[px->off];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            px->off++;
        } else if (c == '-' && px->off + 1 < n && t[px->off + 1] == '-') {
            while (px->off < n && t[px->off] != '\n')
                px->off++;
        } else if (c == '#' && px->off + 1 < n &&
                   (t[px->off + 1] == ' ' || t[px->off + 1] == '!')) {
            while (px->off < n && t[px->off] != '\n')
                px->off++;
        } else if (c == '/' && px->off + 1 < n && t[px->off + 1] == '*') {
            uint32_t start = px->off;
            uint32_t nest = 0;
            while (px->off < n) {
                if (t[px->off] == '/' && px->off + 1 < n && t[px->off + 1] == '*') {
                    nest++;
                    px->off += 2;
                } else if (t[px->off] == '*' && px->off + 1 < n && t[px->off + 1] == '/') {
                    px->off += 2;
                    if (--nest == 0)
                        break;
                } else {
                    px->off++;
                }
            }
            if (nest != 0) {
                ff_sql_px_fail(px, FF_EBADINPUT, "unterminated_comment", start,
                               "unterminated comment: /* without */");
                return false;
            }
        } else {
            break;
        }
    }
    return true;
}

/* Decodes a quoted literal starting at px->off (the quote). Returns false
 * after recording an error. The decoded bytes go to the arena. */
static bool lex_quoted(ff_sql_pctx *px, char quote, ff_sql_name *out)
{
    const char *t = px->text;
    uint32_t n = px->len, start = px->off;
    bool is_string = quote == '\'';
    /* First pass: find the end and the decoded length. */
    uint32_t i = start + 1;
    size_t dlen = 0;
    for (;;) {
        if (i >= n) {
            if (is_string)
                ff_sql_px_fail(px, FF_EBADINPUT, "unterminated_string", start,
                               "unterminated string: ' without a closing '");
            else
                ff_sql_px_fail(px, FF_EBADINPUT, "unterminated_identifier", start,
                               "unterminated quoted identifier: %c without a closing %c", quote,
                               quote);
            return false;
        }
        char c = t[i];
        if (c == '\\') {
            if (i + 1 >= n) {
                i++;
                continue; /* reported as unterminated above */
            }
            if (t[i + 1] == 'x' || t[i + 1] == 'X') {
                if (i + 3 >= n || hexval((unsigned char)t[i + 2]) < 0 ||
                    hexval((unsigned char)t[i + 3]) < 0) {
                    ff_sql_px_fail(px, FF_EBADINPUT, is_string ? "bad_string" : "bad_identifier", i,
                                   "\\x must be followed by two hex digits");
                    return false;
                }
                i += 4;
            } else {
                i += 2;
            }
            dlen++;
        } else if (c == quote) {
            if (i + 1 < n && t[i + 1] == quote) {
                i += 2;
                dlen++;
            } else {
                break;
            }
        } else {
            i++;
            dlen++;
        }
    }
    uint32_t end = i + 1; /* past the closing quote */
    char *d = ff_sql_px_alloc(px, dlen + 1, start);
    if (!d)
        return false;
    size_t k = 0;
    for (uint32_t j = start + 1; j < i;) {
        char c = t[j];
        if (c == '\\') {
            char e = t[j + 1];
            switch (e) {
            case 'b':
                d[k++] = '\b';
                break;
            case 'f':
                d[k++] = '\f';
                break;
            case 'r':
                d[k++] = '\r';
                break;
            case 'n':
                d[k++] = '\n';
                break;
            case 't':
                d[k++] = '\t';
                break;
            case '0':
                d[k++] = '\0';
                break;
            case 'a':
                d[k++] = '\a';
                break;
            case 'v':
                d[k++] = '\v';
                break;
            case 'x':
            case 'X':
                d[k++] =
                    (char)(hexval((unsigned char)t[j + 2]) << 4 | hexval((unsigned char)t[j + 3]));
                j += 2;
                break;
            default:
                d[k++] = e;
                break;
            }
            j += 2;
        } else if (c == quote) {
            d[k++] = quote; /* doubled quote */
            j += 2;
        } else {
            d[k++] = c;
            j++;
        }
    }
    d[k] = '\0';
    out->s = d;
    out->len = (uint32_t)k;
    px->off = end;
    if (!is_string) {
        if (k == 0) {
            ff_sql_px_fail(px, FF_EBADINPUT, "bad_identifier", start, "empty quoted identifier");
            return false;
        }
        if (k > FF_SQL_MAX_IDENT_BYTES) {
            ff_sql_px_fail(px, FF_EBADINPUT, "bad_identifier", start,
                           "identifier is %zu bytes long (limit %d)", k, FF_SQL_MAX_IDENT_BYTES);
            return false;
        }
        if (memchr(d, '\0', k)) {
            ff_sql_px_fail(px, FF_EBADINPUT, "bad_identifier", start,
                           "identifier contains a NUL byte");
            return false;
        }
    }
    return true;
}

/* A number starting at px->off. */
static int lex_number(ff_sql_pctx *px, ff_sql_token *tok)
{
    const char *t = px->text;
    uint32_t n = px->len, start = px->off, i = start;
    int code;
    if (t[i] == '0' && i + 1 < n &&
        (t[i + 1] == 'x' || t[i + 1] == 'X' || t[i + 1] == 'b' || t[i + 1] == 'B')) {
        unsigned base = (t[i + 1] == 'x' || t[i + 1] == 'X') ? 16 : 2;
        i += 2;
        uint64_t v = 0;
        uint32_t digits = 0;
        bool overflow = false;
        for (; i < n; i++) {
            int h = hexval((unsigned char)t[i]);
            if (h < 0 || (unsigned)h >= base)
                break;
            if (v > (UINT64_MAX - (uint64_t)h) / base)
                overflow = true;
            v = v * base + (uint64_t)h;
            digits++;
        }
        if (digits == 0 || (i < n && is_ident_char((unsigned char)t[i]))) {
            ff_sql_px_fail(px, FF_EBADINPUT, "bad_number", start, "malformed number");
            return -1;
        }
        if (overflow) {
            ff_sql_px_fail(px, FF_EBADINPUT, "bad_number", start,
                           "integer literal is out of range (the maximum is 18446744073709551615)");
            return -1;
        }
        tok->v.u = v;
        code = FF_SQL_TK_INTEGER;
    } else {
        bool is_float = false;
        while (i < n && t[i] >= '0' && t[i] <= '9')
            i++;
        if (i < n && t[i] == '.') {
            is_float = true;
            i++;
            while (i < n && t[i] >= '0' && t[i] <= '9')
                i++;
        }
        if (i < n && (t[i] == 'e' || t[i] == 'E')) {
            uint32_t j = i + 1;
            if (j < n && (t[j] == '+' || t[j] == '-'))
                j++;
            if (j < n && t[j] >= '0' && t[j] <= '9') {
                is_float = true;
                i = j;
                while (i < n && t[i] >= '0' && t[i] <= '9')
                    i++;
            }
        }
        if (i < n && is_ident_char((unsigned char)t[i])) {
            ff_sql_px_fail(px, FF_EBADINPUT, "bad_number", start,
                           "malformed number: a digit is followed by a letter");
            return -1;
        }
        if (is_float) {
            char buf[512];
            size_t m = i - start;
            if (m >= sizeof buf) {
                ff_sql_px_fail(px, FF_EBADINPUT, "bad_number", start,
                               "number literal is too long (%zu characters)", m);
                return -1;
            }
            memcpy(buf, t + start, m);
            buf[m] = '\0';
            tok->v.f = strtod(buf, NULL);
            code = FF_SQL_TK_FLOAT;
        } else {
            uint64_t v = 0;
            for (uint32_t j = start; j < i; j++) {
                uint64_t d = (uint64_t)(t[j] - '0');
                if (v > (UINT64_MAX - d) / 10) {
                    ff_sql_px_fail(px, FF_EBADINPUT, "bad_number", start,
                                   "integer literal is out of range (the maximum is "
                                   "18446744073709551615)");
                    return -1;
                }
                v = v * 10 + d;
            }
            tok->v.u = v;
            code = FF_SQL_TK_INTEGER;
        }
    }
    px->off = i;
    return code;
}

/* One raw token, without NOT merging. */
static int lex_raw(ff_sql_pctx *px, ff_sql_token *tok)
{
    memset(tok, 0, sizeof *tok);
    if (!skip_space(px))
        return -1;
    const char *t = px->text;
    uint32_t n = px->len;
    tok->pos = px->off;
    if (px->off >= n) {
        tok->pos = px->last_end;
        return 0;
    }
    unsigned char c = (unsigned char)t[px->off];
    unsigned char c1 = px->off + 1 < n ? (unsigned char)t[px->off + 1] : 0;
    int code = -1;
    uint32_t w = 1; /* width of an operator */
    switch (c) {
    case '(':
        code = FF_SQL_TK_LP;
        break;
    case ')':
        code = FF_SQL_TK_RP;
        break;
    case '[':
        code = FF_SQL_TK_LBRACKET;
        break;
    case ']':
        code = FF_SQL_TK_RBRACKET;
        break;
    case ',':
        code = FF_SQL_TK_COMMA;
        break;
    case ';':
        code = FF_SQL_TK_SEMI;
        break;
    case '+':
        code = FF_SQL_TK_PLUS;
        break;
    case '-':
        code = FF_SQL_TK_MINUS;
        break;
    case '*':
        code = FF_SQL_TK_STAR;
        break;
    case '/':
        code = FF_SQL_TK_SLASH;
        break;
    case '%':
        code = FF_SQL_TK_PERCENT;
        break;
    case '=':
        code = FF_SQL_TK_EQ;
        w = c1 == '=' ? 2 : 1;
        break;
    case '!':
        if (c1 == '=') {
            code = FF_SQL_TK_NE;
            w = 2;
        }
        break;
    case '<':
        if (c1 == '=') {
            code = FF_SQL_TK_LE;
            w = 2;
        } else if (c1 == '>') {
            code = FF_SQL_TK_NE;
            w = 2;
        } else {
            code = FF_SQL_TK_LT;
        }
        break;
    case '>':
        if (c1 == '=') {
            code = FF_SQL_TK_GE;
            w = 2;
        } else {
            code = FF_SQL_TK_GT;
        }
        break;
    case '|':
        if (c1 == '|') {
            code = FF_SQL_TK_CONCAT;
            w = 2;
        }
        break;
    case '.':
        if (c1 >= '0' && c1 <= '9' && px->prev_tok != FF_SQL_TK_ID &&
            px->prev_tok != FF_SQL_TK_RP && px->prev_tok != FF_SQL_TK_RBRACKET) {
            code = lex_number(px, tok);
            if (code < 0)
                return -1;
            tok->len = px->off - tok->pos;
            return code;
        }
        code = FF_SQL_TK_DOT;
        break;
    case '\'': {
        if (!lex_quoted(px, '\'', &tok->v.str))
            return -1;
        tok->len = px->off - tok->pos;
        return FF_SQL_TK_STRING;
    }
    case '`':
    case '"': {
        if (!lex_quoted(px, (char)c, &tok->v.str))
            return -1;
        tok->len = px->off - tok->pos;
        return FF_SQL_TK_ID;
    }
    default:
        break;
    }
    if (code > 0) {
        px->off += w;
        tok->len = w;
        return code;
    }
    if (c >= '0' && c <= '9') {
        code = lex_number(px, tok);
        if (code < 0)
            return -1;
        tok->len = px->off - tok->pos;
        return code;
    }
    if (is_ident_start(c)) {
        uint32_t i = px->off;
        while (i < n && is_ident_char((unsigned char)t[i]))
            i++;
        uint32_t m = i - px->off;
        if (m > FF_SQL_MAX_IDENT_BYTES) {
            ff_sql_px_fail(px, FF_EBADINPUT, "bad_identifier", px->off,
                           "identifier is %u bytes long (limit %d)", m, FF_SQL_MAX_IDENT_BYTES);
            return -1;
        }
        const char *s = t + px->off;
        px->off = i;
        tok->len = m;
        code = kw_lookup(s, m);
        if (code == FF_SQL_TK_ASC || code == FF_SQL_TK_DESC || code == FF_SQL_TK_NULLS ||
            code == FF_SQL_TK_FIRST || code == FF_SQL_TK_LAST || code == FF_SQL_TK_OFFSET) {
            /* May fall back to an identifier: carry the name as written. */
            char *d = ff_sql_px_alloc(px, m + 1, tok->pos);
            if (!d)
                return -1;
            memcpy(d, s, m);
            d[m] = '\0';
            tok->v.str.s = d;
            tok->v.str.len = m;
        }
        if (code)
            return code;
        if (ieq(s, m, "inf") || ieq(s, m, "nan")) {
            tok->v.f = ieq(s, m, "inf") ? HUGE_VAL : NAN;
            return FF_SQL_TK_FLOAT;
        }
        char *d = ff_sql_px_alloc(px, m + 1, tok->pos);
        if (!d)
            return -1;
        memcpy(d, s, m);
        d[m] = '\0';
        tok->v.str.s = d;
        tok->v.str.len = m;
        return FF_SQL_TK_ID;
    }
    /* Nothing SQL starts with this byte. */
    size_t used;
    long cp = utf8_at((const unsigned char *)t + px->off, n - px->off, &used);
    if (cp < 0)
        ff_sql_px_fail(px, FF_EBADINPUT, "bad_char", px->off,
                       "unexpected byte 0x%02X (not valid UTF-8)", c);
    else if (cp >= 0x80)
        ff_sql_px_fail(px, FF_EBADINPUT, "bad_char", px->off,
                       "unexpected character U+%04lX: only ASCII may appear outside quotes", cp);
    else if (cp < 0x20 || cp == 0x7F)
        ff_sql_px_fail(px, FF_EBADINPUT, "bad_char", px->off,
                       "unexpected control character 0x%02lX", cp);
    else
        ff_sql_px_fail(px, FF_EBADINPUT, "bad_char", px->off, "unexpected character '%c'",
                       (char)cp);
    return -1;
}

int ff_sql_lex_next(ff_sql_pctx *px, ff_sql_token *tok)
{
    int code;
    if (px->has_pending) {
        px->has_pending = false;
        *tok = px->pending;
        code = px->pending_code;
    } else {
        code = lex_raw(px, tok);
    }
    if (code == FF_SQL_TK_NOT) {
        ff_sql_token next;
        uint32_t save_end = px->last_end;
        px->last_end = tok->pos + tok->len;
        px->prev_tok = code;
        int c2 = lex_raw(px, &next);
        px->last_end = save_end;
        if (c2 < 0)
            return -1;
        int merged = c2 == FF_SQL_TK_LIKE      ? FF_SQL_TK_NOT_LIKE
                     : c2 == FF_SQL_TK_ILIKE   ? FF_SQL_TK_NOT_ILIKE
                     : c2 == FF_SQL_TK_IN      ? FF_SQL_TK_NOT_IN
                     : c2 == FF_SQL_TK_BETWEEN ? FF_SQL_TK_NOT_BETWEEN
                                               : 0;
        if (merged) {
            tok->len = next.pos + next.len - tok->pos;
            code = merged;
        } else {
            px->has_pending = true;
            px->pending = next;
            px->pending_code = c2;
        }
    }
    if (code > 0) {
        px->prev_tok = code;
        px->last_end = tok->pos + tok->len;
    }
    return code;
}
