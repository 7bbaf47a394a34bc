// A small JSON reader for C contracts: validates a document (RFC 8259, UTF-8, nesting at most 64
// deep) and then reads it in place, without building a tree. Numbers are read as unsigned
// 64-bit integers only (a contract never needs floating point, and the host refuses modules that
// use it); an amount may also be given as a string of decimal digits, which clients whose numbers
// are doubles (JavaScript) can send without losing precision.
//
//     hanse_json args = hanse_args_object();          // reverts unless the args are an object
//     char *to = hanse_req_str(args, "to");           // reverts: "field \"to\" must be a string"
//     uint64_t amount = hanse_req_u64(args, "amount");
//     hanse_json parts = hanse_req_array(args, "parts");
//     uint32_t pos = 0; hanse_json part;
//     while (hanse_json_next(parts, &pos, 0, &part)) { ... }
#ifndef HANSE_JSON_H
#define HANSE_JSON_H

#include "hanse.h"

/// The text of one JSON value inside a validated document; p == NULL: no value.
typedef struct {
    const char *p;
    uint32_t n;
} hanse_json;

enum {
    HANSE_JSON_NONE = 0,
    HANSE_JSON_NULL,
    HANSE_JSON_BOOL,
    HANSE_JSON_NUMBER,
    HANSE_JSON_STRING,
    HANSE_JSON_ARRAY,
    HANSE_JSON_OBJECT,
};

#define HANSE_JSON_DEPTH_MAX 64

HANSE_HELPER const char *hanse__json_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

HANSE_HELPER int hanse__hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// The code unit of `\uXXXX` at p (p at the backslash), or -1.
HANSE_HELPER int32_t hanse__u_escape(const char *p, const char *end) {
    if (end - p < 6 || p[0] != '\\' || p[1] != 'u') return -1;
    int32_t v = 0;
    for (int i = 2; i < 6; i++) {
        int d = hanse__hex(p[i]);
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/// Length of the UTF-8 sequence at p if it is well-formed (shortest form, no surrogates,
/// at most U+10FFFF), else 0.
HANSE_HELPER uint32_t hanse__utf8_len(const unsigned char *p, const unsigned char *end) {
    unsigned char c = p[0];
    if (c < 0x80) return 1;
    uint32_t n;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) { n = 2; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { n = 3; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 4; cp = c & 0x07; }
    else return 0;
    if ((uint32_t)(end - p) < n) return 0;
    for (uint32_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return n;
}

/// p at an opening quote: the byte after the closing quote, or NULL when the string is invalid.
HANSE_HELPER const char *hanse__json_skip_string(const char *p, const char *end) {
    p++;
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') return p + 1;
        if (c < 0x20) return 0;
        if (c == '\\') {
            if (end - p < 2) return 0;
            char e = p[1];
            if (e == 'u') {
                int32_t u = hanse__u_escape(p, end);
                if (u < 0) return 0;
                p += 6;
                if (u >= 0xd800 && u <= 0xdbff) {
                    int32_t low = hanse__u_escape(p, end);
                    if (low < 0xdc00 || low > 0xdfff) return 0;
                    p += 6;
                } else if (u >= 0xdc00 && u <= 0xdfff) {
                    return 0;
                }
            } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
                p += 2;
            } else {
                return 0;
            }
        } else {
            uint32_t n = hanse__utf8_len((const unsigned char *)p, (const unsigned char *)end);
            if (!n) return 0;
            p += n;
        }
    }
    return 0;
}

/// p at the first byte of a value: the byte after it, or NULL when it is invalid.
HANSE_HELPER const char *hanse__json_skip(const char *p, const char *end, int depth) {
    if (p >= end) return 0;
    switch (*p) {
    case '"': return hanse__json_skip_string(p, end);
    case '{':
    case '[': {
        if (depth >= HANSE_JSON_DEPTH_MAX) return 0;
        char close = *p == '{' ? '}' : ']';
        bool object = *p == '{';
        p = hanse__json_ws(p + 1, end);
        if (p < end && *p == close) return p + 1;
        for (;;) {
            if (object) {
                if (p >= end || *p != '"') return 0;
                p = hanse__json_skip_string(p, end);
                if (!p) return 0;
                p = hanse__json_ws(p, end);
                if (p >= end || *p != ':') return 0;
                p = hanse__json_ws(p + 1, end);
            }
            p = hanse__json_skip(p, end, depth + 1);
            if (!p) return 0;
            p = hanse__json_ws(p, end);
            if (p >= end) return 0;
            if (*p == close) return p + 1;
            if (*p != ',') return 0;
            p = hanse__json_ws(p + 1, end);
        }
    }
    case 't': return end - p >= 4 && !memcmp(p, "true", 4) ? p + 4 : 0;
    case 'f': return end - p >= 5 && !memcmp(p, "false", 5) ? p + 5 : 0;
    case 'n': return end - p >= 4 && !memcmp(p, "null", 4) ? p + 4 : 0;
    default: {
        // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? : valid JSON, though only integers are read.
        const char *q = p;
        if (q < end && *q == '-') q++;
        if (q >= end || *q < '0' || *q > '9') return 0;
        if (*q == '0') q++;
        else while (q < end && *q >= '0' && *q <= '9') q++;
        if (q < end && *q == '.') {
            q++;
            if (q >= end || *q < '0' || *q > '9') return 0;
            while (q < end && *q >= '0' && *q <= '9') q++;
        }
        if (q < end && (*q == 'e' || *q == 'E')) {
            q++;
            if (q < end && (*q == '+' || *q == '-')) q++;
            if (q >= end || *q < '0' || *q > '9') return 0;
            while (q < end && *q >= '0' && *q <= '9') q++;
        }
        return q;
    }
    }
}

/// The document in [text, text + len) if it is one valid JSON value (whitespace around allowed).
HANSE_HELPER hanse_json hanse_json_parse(const char *text, uint32_t len) {
    hanse_json none = {0, 0};
    const char *end = text + len;
    const char *start = hanse__json_ws(text, end);
    const char *stop = hanse__json_skip(start, end, 0);
    if (!stop || hanse__json_ws(stop, end) != end) return none;
    hanse_json v = {start, (uint32_t)(stop - start)};
    return v;
}

HANSE_HELPER int hanse_json_type(hanse_json v) {
    if (!v.p || v.n == 0) return HANSE_JSON_NONE;
    switch (v.p[0]) {
    case 'n': return HANSE_JSON_NULL;
    case 't':
    case 'f': return HANSE_JSON_BOOL;
    case '"': return HANSE_JSON_STRING;
    case '[': return HANSE_JSON_ARRAY;
    case '{': return HANSE_JSON_OBJECT;
    default: return HANSE_JSON_NUMBER;
    }
}

/// Iterates an array's elements or an object's members: start with *pos = 0; returns false after
/// the last one. `key` (may be NULL) receives an object member's key as a JSON string value.
HANSE_HELPER bool hanse_json_next(hanse_json container, uint32_t *pos, hanse_json *key, hanse_json *value) {
    int type = hanse_json_type(container);
    if (type != HANSE_JSON_ARRAY && type != HANSE_JSON_OBJECT) return false;
    const char *end = container.p + container.n;
    const char *p = container.p + (*pos == 0 ? 1 : *pos);
    p = hanse__json_ws(p, end);
    if (*pos != 0 && p < end && *p == ',') p = hanse__json_ws(p + 1, end);
    if (p >= end - 1) return false;  // at the closing bracket
    if (type == HANSE_JSON_OBJECT) {
        const char *k = p;
        p = hanse__json_skip_string(p, end);
        if (key) { key->p = k; key->n = (uint32_t)(p - k); }
        p = hanse__json_ws(p, end);
        p = hanse__json_ws(p + 1, end);  // ':'
    }
    const char *v = p;
    p = hanse__json_skip(p, end, 0);
    value->p = v;
    value->n = (uint32_t)(p - v);
    *pos = (uint32_t)(p - container.p);
    return true;
}

/// Decodes a string value into `out` (NUL-terminated when out_cap allows); returns the decoded
/// length, or -1 when v is not a string. Writes at most out_cap bytes.
HANSE_HELPER int32_t hanse__json_decode(hanse_json v, char *out, uint32_t out_cap) {
    if (hanse_json_type(v) != HANSE_JSON_STRING) return -1;
    const char *p = v.p + 1, *end = v.p + v.n - 1;
    uint32_t n = 0;
#define HANSE__PUT(c) do { if (n < out_cap) out[n] = (char)(c); n++; } while (0)
    while (p < end) {
        if (*p != '\\') { HANSE__PUT(*p); p++; continue; }
        char e = p[1];
        if (e != 'u') {
            char c = e == 'b' ? '\b' : e == 'f' ? '\f' : e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e;
            HANSE__PUT(c);
            p += 2;
            continue;
        }
        uint32_t cp = (uint32_t)hanse__u_escape(p, end + 1);
        p += 6;
        if (cp >= 0xd800 && cp <= 0xdbff) {
            uint32_t low = (uint32_t)hanse__u_escape(p, end + 1);
            p += 6;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        }
        if (cp < 0x80) {
            HANSE__PUT(cp);
        } else if (cp < 0x800) {
            HANSE__PUT(0xc0 | cp >> 6); HANSE__PUT(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            HANSE__PUT(0xe0 | cp >> 12); HANSE__PUT(0x80 | (cp >> 6 & 0x3f)); HANSE__PUT(0x80 | (cp & 0x3f));
        } else {
            HANSE__PUT(0xf0 | cp >> 18); HANSE__PUT(0x80 | (cp >> 12 & 0x3f)); HANSE__PUT(0x80 | (cp >> 6 & 0x3f)); HANSE__PUT(0x80 | (cp & 0x3f));
        }
    }
#undef HANSE__PUT
    if (n < out_cap) out[n] = 0;
    return (int32_t)n;
}

/// A string value decoded (malloc'd, NUL-terminated), or NULL when v is not a string or contains
/// U+0000 (which a NUL-terminated C string cannot hold).
HANSE_HELPER char *hanse_json_string(hanse_json v, uint32_t *len) {
    if (hanse_json_type(v) != HANSE_JSON_STRING) return 0;
    char *out = malloc(v.n);  // decoding never makes a string longer than its literal
    int32_t n = hanse__json_decode(v, out, v.n);
    if (n < 0 || (uint32_t)n != strlen(out)) { free(out); return 0; }
    if (len) *len = (uint32_t)n;
    return out;
}

/// Whether string value v decodes to exactly the NUL-terminated text s.
HANSE_HELPER bool hanse_json_equals(hanse_json v, const char *s) {
    if (hanse_json_type(v) != HANSE_JSON_STRING) return false;
    uint32_t n = (uint32_t)strlen(s);
    if (v.n == n + 2 && !memcmp(v.p + 1, s, n)) return true;  // the common case: no escapes
    char small[128];
    if (v.n > sizeof small) {
        char *decoded = hanse_json_string(v, 0);
        bool same = decoded && !strcmp(decoded, s);
        free(decoded);
        return same;
    }
    int32_t m = hanse__json_decode(v, small, sizeof small);
    return m == (int32_t)n && !memcmp(small, s, n);
}

/// The value of an object's member `key` (the last one if it repeats), or none.
HANSE_HELPER hanse_json hanse_json_get(hanse_json object, const char *key) {
    hanse_json found = {0, 0}, k, v;
    uint32_t pos = 0;
    if (hanse_json_type(object) != HANSE_JSON_OBJECT) return found;
    while (hanse_json_next(object, &pos, &k, &v)) {
        if (hanse_json_equals(k, key)) found = v;
    }
    return found;
}

/// A non-negative integer: a JSON number without sign, fraction or exponent, or a string of 1 to
/// 20 decimal digits; false when v is neither or does not fit in 64 bits.
HANSE_HELPER bool hanse_json_u64(hanse_json v, uint64_t *out) {
    const char *p = v.p, *end = v.p + v.n;
    int type = hanse_json_type(v);
    if (type == HANSE_JSON_STRING) { p++; end--; }
    else if (type != HANSE_JSON_NUMBER) return false;
    if (p >= end || (end - p > 1 && *p == '0')) return false;
    uint64_t value = 0;
    for (; p < end; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (d > 9 || value > (UINT64_MAX - d) / 10) return false;
        value = value * 10 + d;
    }
    *out = value;
    return true;
}

HANSE_HELPER bool hanse_json_bool(hanse_json v, bool *out) {
    if (hanse_json_type(v) != HANSE_JSON_BOOL) return false;
    *out = v.p[0] == 't';
    return true;
}

// ---- Arguments: read a field or revert with a message that names it ------------------------------

/// The call's args, which must be a JSON object.
HANSE_HELPER hanse_json hanse_args_object(void) {
    uint32_t len;
    char *text = hanse_args_bytes(&len);
    hanse_json args = hanse_json_parse(text, len);
    if (hanse_json_type(args) != HANSE_JSON_OBJECT) hanse_revert_str("args must be a JSON object");
    return args;
}

/// Reverts when the object has a member not listed in `known` (a NULL-terminated list): a
/// misspelt optional field is an error, not silently ignored.
HANSE_HELPER void hanse_json_only(hanse_json object, const char *const *known) {
    hanse_json k, v;
    uint32_t pos = 0;
    while (hanse_json_next(object, &pos, &k, &v)) {
        bool ok = false;
        for (const char *const *name = known; *name && !ok; name++) ok = hanse_json_equals(k, *name);
        if (!ok) {
            char *name = hanse_json_string(k, 0);
            hanse_revert3("unknown field \"", name ? name : "?", "\"");
        }
    }
}

HANSE_HELPER char *hanse_req_str(hanse_json object, const char *key) {
    char *s = hanse_json_string(hanse_json_get(object, key), 0);
    if (!s) hanse_revert3("field \"", key, "\" must be a string");
    return s;
}

/// A string member, or NULL when it is absent or null.
HANSE_HELPER char *hanse_opt_str(hanse_json object, const char *key) {
    hanse_json v = hanse_json_get(object, key);
    int type = hanse_json_type(v);
    if (type == HANSE_JSON_NONE || type == HANSE_JSON_NULL) return 0;
    return hanse_req_str(object, key);
}

HANSE_HELPER uint64_t hanse_req_u64(hanse_json object, const char *key) {
    uint64_t value;
    if (!hanse_json_u64(hanse_json_get(object, key), &value)) {
        hanse_revert3("field \"", key, "\" must be an integer from 0 to 18446744073709551615 (a number or a string of digits)");
    }
    return value;
}

/// An integer member; false when it is absent or null.
HANSE_HELPER bool hanse_opt_u64(hanse_json object, const char *key, uint64_t *out) {
    int type = hanse_json_type(hanse_json_get(object, key));
    if (type == HANSE_JSON_NONE || type == HANSE_JSON_NULL) return false;
    *out = hanse_req_u64(object, key);
    return true;
}

HANSE_HELPER hanse_json hanse_req_array(hanse_json object, const char *key) {
    hanse_json v = hanse_json_get(object, key);
    if (hanse_json_type(v) != HANSE_JSON_ARRAY) hanse_revert3("field \"", key, "\" must be an array");
    return v;
}

/// A signer address member (40 lower-case hex digits).
HANSE_HELPER char *hanse_req_address(hanse_json object, const char *key) {
    char *s = hanse_req_str(object, key);
    if (!hanse_is_address(s)) hanse_revert3("field \"", key, "\" must be an address: 40 lower-case hex digits");
    return s;
}

/// An id member usable in a state key: 1 to 128 printable ASCII characters, no space, no '/'.
HANSE_HELPER char *hanse_req_id(hanse_json object, const char *key) {
    char *s = hanse_req_str(object, key);
    if (!hanse_is_id(s, 128)) hanse_revert3("field \"", key, "\" must be 1 to 128 printable ASCII characters without spaces or '/'");
    return s;
}

#endif
