// Hanse contract SDK for C: the host API (module "hanse", see docs/contracts.md and
// Sources/Contracts/HostAPI.swift) and small helpers around it.
//
// A method is an exported function taking and returning nothing:
//
//     #include "hanse.h"
//     #include "hanse_json.h"
//     HANSE_METHOD(hello) { hanse_return_str("{\"hello\":\"world\"}"); }
//
// Build with contracts/build.sh, which links contracts/sdk/c/hanse_libc.c (memcpy, malloc and
// friends) and exports only the functions marked HANSE_METHOD / HANSE_INIT / HANSE_MIGRATE.
// Contracts must not use floating point: the host refuses any module with an f32/f64 type or
// instruction.
#ifndef HANSE_H
#define HANSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// ---- The C library in hanse_libc.c ------------------------------------------------------------
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
void *malloc(size_t size);
void free(void *p);
void *calloc(size_t count, size_t size);
void *realloc(void *p, size_t size);
int posix_memalign(void **out, size_t alignment, size_t size);

// ---- Host functions ---------------------------------------------------------------------------
// Functions that return bytes take (out, cap), return the full length, and copy only when
// cap >= length. -1 means absent.
#define HANSE_IMPORT(name) __attribute__((import_module("hanse"), import_name(#name)))

/// The call's JSON argument bytes.
HANSE_IMPORT(args) int32_t hanse_args(uint8_t *out, int32_t cap);
/// The value under key, or -1 when the key has none.
HANSE_IMPORT(state_get) int32_t hanse_state_get(const void *key, int32_t key_len, void *out, int32_t cap);
HANSE_IMPORT(state_set) void hanse_state_set(const void *key, int32_t key_len, const void *value, int32_t value_len);
HANSE_IMPORT(state_delete) void hanse_state_delete(const void *key, int32_t key_len);
/// Up to `limit` (1..100) entries whose keys start with prefix and sort after `after` (after_len 0:
/// from the start), encoded as u32 count, then per entry u32 key_len, key, u32 value_len, value
/// (little-endian). See hanse_scan below.
HANSE_IMPORT(state_scan) int32_t hanse_state_scan(const void *prefix, int32_t prefix_len, const void *after, int32_t after_len,
                                                  int32_t limit, void *out, int32_t cap);
/// An event: topic is 1..128 printable ASCII bytes without spaces; data is usually JSON.
HANSE_IMPORT(emit) void hanse_emit(const void *topic, int32_t topic_len, const void *data, int32_t data_len);
/// The signer's address: 40 lower-case hex digits.
HANSE_IMPORT(caller) int32_t hanse_caller(void *out, int32_t cap);
/// The transaction id: 32 bytes (zeros in a read-only query).
HANSE_IMPORT(tx_id) int32_t hanse_tx_id(void *out, int32_t cap);
HANSE_IMPORT(block_height) int64_t hanse_block_height(void);
/// Block time in Unix milliseconds.
HANSE_IMPORT(block_time) int64_t hanse_block_time(void);
/// Writes the 32-byte SHA-256 of [data, data + len) to out.
HANSE_IMPORT(sha256) void hanse_sha256(const void *data, int32_t len, void *out);
/// 1 when sig is a valid signature of msg by key. alg: 1 P-256, 2 Ed25519, 3 SM2.
HANSE_IMPORT(verify_signature) int32_t hanse_verify_signature(int32_t alg, const void *key, int32_t key_len, const void *msg,
                                                              int32_t msg_len, const void *sig, int32_t sig_len);
/// The call's result (JSON where it is JSON). The last call wins.
HANSE_IMPORT(return_value) void hanse_return_value(const void *data, int32_t len);
/// Aborts the call with a message; every write and event of the call is discarded.
HANSE_IMPORT(revert) __attribute__((noreturn)) void hanse_revert(const void *message, int32_t len);
/// A debug line, kept in the call's logs; not part of consensus output.
HANSE_IMPORT(log) void hanse_log(const void *line, int32_t len);

#define HANSE_ALG_P256 1
#define HANSE_ALG_ED25519 2
#define HANSE_ALG_SM2 3

// ---- Exports ----------------------------------------------------------------------------------
/// Defines a method: `HANSE_METHOD(transfer) { ... }` exports `transfer` as () -> ().
#define HANSE_METHOD(name) __attribute__((export_name(#name))) void name(void)
/// Run once at deploy (args: the deploy's init_args, or {}).
#define HANSE_INIT __attribute__((export_name("init"))) void hanse_init(void)
/// Run at upgrade (args: the upgrade's migrate_args, or {}).
#define HANSE_MIGRATE __attribute__((export_name("migrate"))) void hanse_migrate(void)

#define HANSE_HELPER static inline __attribute__((unused))

// ---- Reverting ----------------------------------------------------------------------------------
/// Reverts with a NUL-terminated message (the host keeps at most 1024 bytes of it).
HANSE_HELPER __attribute__((noreturn)) void hanse_revert_str(const char *message) {
    size_t n = strlen(message);
    hanse_revert(message, (int32_t)(n > 1024 ? 1024 : n));
}

/// Reverts with the concatenation of up to three strings (NULL ones are skipped).
HANSE_HELPER __attribute__((noreturn)) void hanse_revert3(const char *a, const char *b, const char *c) {
    char message[1024];
    uint32_t n = 0;
    const char *parts[3] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        for (const char *p = parts[i]; p && *p && n < sizeof message; p++) message[n++] = *p;
    }
    hanse_revert(message, (int32_t)n);
}

/// Reverts with `message` unless `condition` holds.
HANSE_HELPER void hanse_require(bool condition, const char *message) {
    if (!condition) hanse_revert_str(message);
}

HANSE_HELPER void hanse_log_str(const char *line) { hanse_log(line, (int32_t)strlen(line)); }

// ---- A growable byte buffer ----------------------------------------------------------------------
typedef struct {
    char *data;
    uint32_t len;
    uint32_t cap;
} hanse_buf;

HANSE_HELPER void hanse_buf_reserve(hanse_buf *b, uint32_t extra) {
    if (extra > 0x7fffffffu - b->len) hanse_revert_str("buffer too large");
    uint32_t need = b->len + extra + 1;  // +1: room for a terminating NUL
    if (need <= b->cap) return;
    uint32_t cap = b->cap < 64 ? 64 : b->cap;
    while (cap < need) cap = cap > 0x3fffffffu ? need : cap * 2;
    b->data = realloc(b->data, cap);
    b->cap = cap;
}

HANSE_HELPER void hanse_buf_append(hanse_buf *b, const void *data, uint32_t len) {
    hanse_buf_reserve(b, len);
    if (len) memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = 0;
}

HANSE_HELPER void hanse_buf_puts(hanse_buf *b, const char *s) { hanse_buf_append(b, s, (uint32_t)strlen(s)); }
HANSE_HELPER void hanse_buf_putc(hanse_buf *b, char c) { hanse_buf_append(b, &c, 1); }

HANSE_HELPER void hanse_buf_u64(hanse_buf *b, uint64_t v) {
    char digits[20];
    int n = 0;
    do { digits[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) hanse_buf_putc(b, digits[--n]);
}

HANSE_HELPER void hanse_buf_i64(hanse_buf *b, int64_t v) {
    if (v < 0) {
        hanse_buf_putc(b, '-');
        hanse_buf_u64(b, (uint64_t)0 - (uint64_t)v);
    } else {
        hanse_buf_u64(b, (uint64_t)v);
    }
}

/// `v` as decimal, left-padded with zeros to `width` digits: keys that sort numerically.
HANSE_HELPER void hanse_buf_u64_padded(hanse_buf *b, uint64_t v, int width) {
    char digits[20];
    int n = 0;
    do { digits[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    for (int i = n; i < width; i++) hanse_buf_putc(b, '0');
    while (n) hanse_buf_putc(b, digits[--n]);
}

HANSE_HELPER void hanse_buf_hex(hanse_buf *b, const uint8_t *data, uint32_t len) {
    static const char hex[] = "0123456789abcdef";
    for (uint32_t i = 0; i < len; i++) {
        hanse_buf_putc(b, hex[data[i] >> 4]);
        hanse_buf_putc(b, hex[data[i] & 15]);
    }
}

/// A JSON string literal (quotes included) of `len` bytes of UTF-8 text.
HANSE_HELPER void hanse_buf_json_strn(hanse_buf *b, const char *s, uint32_t len) {
    static const char hex[] = "0123456789abcdef";
    hanse_buf_putc(b, '"');
    for (uint32_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': hanse_buf_puts(b, "\\\""); break;
        case '\\': hanse_buf_puts(b, "\\\\"); break;
        case '\n': hanse_buf_puts(b, "\\n"); break;
        case '\r': hanse_buf_puts(b, "\\r"); break;
        case '\t': hanse_buf_puts(b, "\\t"); break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                hanse_buf_append(b, esc, 6);
            } else {
                hanse_buf_putc(b, (char)c);
            }
        }
    }
    hanse_buf_putc(b, '"');
}

HANSE_HELPER void hanse_buf_json_str(hanse_buf *b, const char *s) { hanse_buf_json_strn(b, s, (uint32_t)strlen(s)); }

/// Appends `"key":` (with a comma first unless the buffer ends with `{` or `[`).
HANSE_HELPER void hanse_buf_key(hanse_buf *b, const char *key) {
    if (b->len && b->data[b->len - 1] != '{' && b->data[b->len - 1] != '[') hanse_buf_putc(b, ',');
    hanse_buf_json_str(b, key);
    hanse_buf_putc(b, ':');
}

/// Object members: `"key":"value"`, `"key":123`, `"key":true`, `"key":<raw JSON>`.
HANSE_HELPER void hanse_buf_kv_str(hanse_buf *b, const char *key, const char *value) { hanse_buf_key(b, key); hanse_buf_json_str(b, value); }
HANSE_HELPER void hanse_buf_kv_u64(hanse_buf *b, const char *key, uint64_t value) { hanse_buf_key(b, key); hanse_buf_u64(b, value); }
HANSE_HELPER void hanse_buf_kv_i64(hanse_buf *b, const char *key, int64_t value) { hanse_buf_key(b, key); hanse_buf_i64(b, value); }
HANSE_HELPER void hanse_buf_kv_bool(hanse_buf *b, const char *key, bool value) { hanse_buf_key(b, key); hanse_buf_puts(b, value ? "true" : "false"); }
HANSE_HELPER void hanse_buf_kv_raw(hanse_buf *b, const char *key, const char *json, uint32_t len) { hanse_buf_key(b, key); hanse_buf_append(b, json, len); }

HANSE_HELPER void hanse_buf_free(hanse_buf *b) {
    free(b->data);
    b->data = 0;
    b->len = b->cap = 0;
}

// ---- Calls, results, events ---------------------------------------------------------------------
/// Calls a host function of the (out, cap) -> length kind until the result fits; returns a malloc'd
/// NUL-terminated copy and its length, or NULL when the host says -1 (absent).
HANSE_HELPER char *hanse_fetch_bytes(int32_t (*fetch)(void *, int32_t, void *), void *context, uint32_t *len) {
    int32_t cap = 256;
    char *out = malloc((uint32_t)cap + 1);
    for (;;) {
        int32_t n = fetch(out, cap, context);
        if (n < 0) { free(out); return 0; }
        if (n <= cap) {
            out[n] = 0;
            if (len) *len = (uint32_t)n;
            return out;
        }
        free(out);
        cap = n;
        out = malloc((uint32_t)cap + 1);
    }
}

HANSE_HELPER int32_t hanse__fetch_args(void *out, int32_t cap, void *context) { (void)context; return hanse_args(out, cap); }

/// The call's argument bytes, NUL-terminated (malloc'd).
HANSE_HELPER char *hanse_args_bytes(uint32_t *len) {
    char *args = hanse_fetch_bytes(hanse__fetch_args, 0, len);
    if (!args) hanse_revert_str("no arguments");
    return args;
}

/// The signer's address, 40 lower-case hex digits, NUL-terminated (static storage).
HANSE_HELPER const char *hanse_caller_address(void) {
    static char address[41];
    if (!address[0]) {
        int32_t n = hanse_caller(address, 40);
        hanse_require(n == 40, "caller address is not 40 characters");
        address[40] = 0;
    }
    return address;
}

/// The transaction id as 64 lower-case hex digits, NUL-terminated (static storage).
HANSE_HELPER const char *hanse_tx_hex(void) {
    static char text[65];
    if (!text[0]) {
        uint8_t id[32] = {0};
        int32_t n = hanse_tx_id(id, 32);
        hanse_require(n == 32, "tx id is not 32 bytes");
        static const char hex[] = "0123456789abcdef";
        for (int i = 0; i < 32; i++) { text[2 * i] = hex[id[i] >> 4]; text[2 * i + 1] = hex[id[i] & 15]; }
        text[64] = 0;
    }
    return text;
}

HANSE_HELPER void hanse_return_str(const char *s) { hanse_return_value(s, (int32_t)strlen(s)); }
HANSE_HELPER void hanse_return_buf(const hanse_buf *b) { hanse_return_value(b->data, (int32_t)b->len); }
HANSE_HELPER void hanse_emit_buf(const char *topic, const hanse_buf *data) { hanse_emit(topic, (int32_t)strlen(topic), data->data, (int32_t)data->len); }

// ---- State -------------------------------------------------------------------------------------
typedef struct { const char *key; int32_t key_len; } hanse__key;
HANSE_HELPER int32_t hanse__fetch_state(void *out, int32_t cap, void *context) {
    hanse__key *k = context;
    return hanse_state_get(k->key, k->key_len, out, cap);
}

/// The value under a NUL-terminated key, NUL-terminated (malloc'd), or NULL when absent.
HANSE_HELPER char *hanse_get(const char *key, uint32_t *len) {
    hanse__key k = {key, (int32_t)strlen(key)};
    return hanse_fetch_bytes(hanse__fetch_state, &k, len);
}

HANSE_HELPER bool hanse_has(const char *key) { return hanse_state_get(key, (int32_t)strlen(key), 0, 0) >= 0; }
HANSE_HELPER void hanse_put(const char *key, const void *value, uint32_t len) { hanse_state_set(key, (int32_t)strlen(key), value, (int32_t)len); }
HANSE_HELPER void hanse_put_str(const char *key, const char *value) { hanse_put(key, value, (uint32_t)strlen(value)); }
HANSE_HELPER void hanse_put_buf(const char *key, const hanse_buf *value) { hanse_put(key, value->data, value->len); }
HANSE_HELPER void hanse_del(const char *key) { hanse_state_delete(key, (int32_t)strlen(key)); }

/// The decimal u64 stored under key, or `fallback` when absent.
HANSE_HELPER uint64_t hanse_get_u64(const char *key, uint64_t fallback) {
    char buffer[24];
    int32_t n = hanse_state_get(key, (int32_t)strlen(key), buffer, (int32_t)sizeof buffer);
    if (n < 0) return fallback;
    if (n == 0 || n > 20) hanse_revert3("state value of ", key, " is not a decimal number");
    uint64_t v = 0;
    for (int32_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(buffer[i] - '0');
        if (d > 9 || v > (UINT64_MAX - d) / 10) hanse_revert3("state value of ", key, " is not a decimal number");
        v = v * 10 + d;
    }
    return v;
}

HANSE_HELPER void hanse_put_u64(const char *key, uint64_t value) {
    char digits[20];
    int n = 0;
    do { digits[19 - n++] = (char)('0' + value % 10); value /= 10; } while (value);
    hanse_put(key, digits + 20 - n, (uint32_t)n);
}

/// One page of a prefix scan: entries decoded from the host's encoding. Pointers point into `raw`.
typedef struct {
    const char *key;
    uint32_t key_len;
    const char *value;
    uint32_t value_len;
} hanse_entry;

typedef struct {
    char *raw;
    uint32_t count;
    hanse_entry entries[100];
} hanse_page;

HANSE_HELPER uint32_t hanse__le32(const char *p) {
    const uint8_t *u = (const uint8_t *)p;
    return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
}

/// Up to `limit` (1..100) entries under `prefix` after the key `after` (NULL or "": from the
/// start), in key order. Free the page with hanse_page_free. Continue with the last entry's key
/// as `after` while count == limit.
HANSE_HELPER void hanse_scan(const char *prefix, const char *after, uint32_t after_len, int32_t limit, hanse_page *page) {
    if (limit < 1 || limit > 100) hanse_revert_str("scan limit must be 1 to 100");
    int32_t prefix_len = (int32_t)strlen(prefix);
    int32_t cap = 4096;
    char *raw = malloc((uint32_t)cap);
    for (;;) {
        int32_t n = hanse_state_scan(prefix, prefix_len, after, after ? (int32_t)after_len : 0, limit, raw, cap);
        if (n <= cap) {
            if (n < 4) hanse_revert_str("state_scan returned a malformed page");
            break;
        }
        free(raw);
        cap = n;
        raw = malloc((uint32_t)cap);
    }
    page->raw = raw;
    page->count = hanse__le32(raw);
    const char *p = raw + 4;
    for (uint32_t i = 0; i < page->count && i < 100; i++) {
        page->entries[i].key_len = hanse__le32(p);
        page->entries[i].key = p + 4;
        p += 4 + page->entries[i].key_len;
        page->entries[i].value_len = hanse__le32(p);
        page->entries[i].value = p + 4;
        p += 4 + page->entries[i].value_len;
    }
}

HANSE_HELPER void hanse_page_free(hanse_page *page) {
    free(page->raw);
    page->raw = 0;
    page->count = 0;
}

// ---- Checked arithmetic ------------------------------------------------------------------------
HANSE_HELPER uint64_t hanse_add_u64(uint64_t a, uint64_t b, const char *overflow_message) {
    uint64_t r;
    if (__builtin_add_overflow(a, b, &r)) hanse_revert_str(overflow_message);
    return r;
}

HANSE_HELPER uint64_t hanse_sub_u64(uint64_t a, uint64_t b, const char *underflow_message) {
    if (b > a) hanse_revert_str(underflow_message);
    return a - b;
}

// ---- Validation ---------------------------------------------------------------------------------
/// Whether s is a signer address: 40 lower-case hex digits.
HANSE_HELPER bool hanse_is_address(const char *s) {
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return n == 40;
}

/// Whether s is 1..max_len printable ASCII characters without spaces and without '/', the key
/// separator: safe to put in a state key.
HANSE_HELPER bool hanse_is_id(const char *s, size_t max_len) {
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (c <= 32 || c >= 127 || c == '/') return false;
    }
    return n >= 1 && n <= max_len;
}

#endif
