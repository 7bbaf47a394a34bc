// Loyalty points: a fungible token with unsigned 64-bit amounts. The admin (set at deploy) mints;
// holders transfer, and approve spenders who transfer on their behalf. Every sum is checked for
// overflow, so the total supply and every balance stay below 2^64.
//
// State: admin -> address; supply -> decimal; balance/<address> -> decimal (absent when 0);
//        allowance/<owner>/<spender> -> decimal (absent when 0).
#include "hanse.h"
#include "hanse_json.h"

static char *concat(const char *a, const char *b, const char *c) {
    hanse_buf k = {0};
    hanse_buf_puts(&k, a);
    hanse_buf_puts(&k, b);
    if (c) hanse_buf_puts(&k, c);
    return k.data;
}

static char *balance_key(const char *owner) { return concat("balance/", owner, 0); }

static char *allowance_key(const char *owner, const char *spender) {
    char *k = concat("allowance/", owner, "/");
    char *full = concat(k, spender, 0);
    free(k);
    return full;
}

static uint64_t balance_of(const char *owner) {
    char *k = balance_key(owner);
    uint64_t v = hanse_get_u64(k, 0);
    free(k);
    return v;
}

static void set_u64_or_delete(char *key, uint64_t value) {
    if (value == 0) hanse_del(key);
    else hanse_put_u64(key, value);
    free(key);
}

static const char *admin(void) {
    char *a = hanse_get("admin", 0);
    if (!a) hanse_revert_str("the contract has no admin: init did not run");
    return a;
}

static uint64_t positive_amount(hanse_json args) {
    uint64_t amount = hanse_req_u64(args, "amount");
    hanse_require(amount > 0, "amount must be above 0");
    return amount;
}

/// Moves `amount` from `from` to `to`; reverts when `from` has less.
static void move(const char *from, const char *to, uint64_t amount) {
    uint64_t have = balance_of(from);
    if (have < amount) {
        hanse_buf m = {0};
        hanse_buf_puts(&m, "insufficient balance: ");
        hanse_buf_puts(&m, from);
        hanse_buf_puts(&m, " has ");
        hanse_buf_u64(&m, have);
        hanse_buf_puts(&m, ", needs ");
        hanse_buf_u64(&m, amount);
        hanse_revert(m.data, (int32_t)m.len);
    }
    set_u64_or_delete(balance_key(from), have - amount);
    // Read after the debit, so a transfer to oneself leaves the balance as it was.
    uint64_t other = balance_of(to);
    set_u64_or_delete(balance_key(to), hanse_add_u64(other, amount, "the recipient's balance would overflow"));
}

/// init {"admin"?}: the admin is the given address, or the deployer.
HANSE_INIT {
    hanse_json args = hanse_args_object();
    static const char *const known[] = {"admin", 0};
    hanse_json_only(args, known);
    const char *who = hanse_opt_str(args, "admin") ? hanse_req_address(args, "admin") : hanse_caller_address();
    hanse_put_str("admin", who);
    hanse_put_u64("supply", 0);
    hanse_buf out = {0};
    hanse_buf_putc(&out, '{');
    hanse_buf_kv_str(&out, "admin", who);
    hanse_buf_putc(&out, '}');
    hanse_emit_buf("admin_set", &out);
    hanse_return_buf(&out);
}

/// mint {"to", "amount"}: admin only.
HANSE_METHOD(mint) {
    hanse_json args = hanse_args_object();
    static const char *const known[] = {"to", "amount", 0};
    hanse_json_only(args, known);
    const char *caller = hanse_caller_address();
    hanse_require(!strcmp(caller, admin()), "only the admin may mint");
    char *to = hanse_req_address(args, "to");
    uint64_t amount = positive_amount(args);
    uint64_t supply = hanse_add_u64(hanse_get_u64("supply", 0), amount, "the total supply would overflow");
    uint64_t balance = hanse_add_u64(balance_of(to), amount, "the recipient's balance would overflow");
    hanse_put_u64("supply", supply);
    set_u64_or_delete(balance_key(to), balance);
    hanse_buf out = {0};
    hanse_buf_putc(&out, '{');
    hanse_buf_kv_str(&out, "to", to);
    hanse_buf_kv_u64(&out, "amount", amount);
    hanse_buf_kv_u64(&out, "balance", balance);
    hanse_buf_kv_u64(&out, "supply", supply);
    hanse_buf_putc(&out, '}');
    hanse_emit_buf("minted", &out);
    hanse_return_buf(&out);
}

static void transfer_event(const char *from, const char *to, uint64_t amount, const char *spender) {
    hanse_buf out = {0};
    hanse_buf_putc(&out, '{');
    hanse_buf_kv_str(&out, "from", from);
    hanse_buf_kv_str(&out, "to", to);
    hanse_buf_kv_u64(&out, "amount", amount);
    if (spender) hanse_buf_kv_str(&out, "spender", spender);
    hanse_buf_putc(&out, '}');
    hanse_emit_buf("transfer", &out);
    hanse_buf_free(&out);
}

static void return_balance(const char *of) {
    hanse_buf out = {0};
    hanse_buf_putc(&out, '{');
    hanse_buf_kv_str(&out, "of", of);
    hanse_buf_kv_u64(&out, "balance", balance_of(of));
    hanse_buf_putc(&out, '}');
    hanse_return_buf(&out);
}

/// transfer {"to", "amount"}: from the caller. Result: the caller's balance after it.
HANSE_METHOD(transfer) {
    hanse_json args = hanse_args_object();
    static const char *const known[] = {"to", "amount", 0};
    hanse_json_only(args, known);
    const char *from = hanse_caller_address();
    char *to = hanse_req_address(args, "to");
    uint64_t amount = positive_amount(args);
    move(from, to, amount);
    transfer_event(from, to, amount, 0);
    return_balance(from);
}

/// balance {"of"}: {"of", "balance"}.
HANSE_METHOD(balance) {
    hanse_json args = hanse_args_object();
    static const char *const known[] = {"of", 0};
    hanse_json_only(args, known);
    return_balance(hanse_req_address(args, "of"));
}

static void return_allowance(const char *owner, const char *spender, uint64_t amount) {
    hanse_buf out = {0};
    hanse_buf_putc(&out, '{');
    hanse_buf_kv_str(&out, "owner", owner);
    hanse_buf_kv_str(&out, "spender", spender);
    hanse_buf_kv_u64(&out, "allowance", amount);
    hanse_buf_putc(&out, '}');
    hanse_return_buf(&out);
}

/// approve {"spender", "amount"}: the spender may transfer up to amount of the caller's points
/// (replacing any earlier allowance; 0 revokes it).
HANSE_METHOD(approve) {
    hanse_json args = hanse_args_object();
    static const char *const known[] = {"spender", "amount", 0};
    hanse_json_only(args, known);
    const char *owner = hanse_caller_address();
    char *spender = hanse_req_address(args, "spender");
    uint64_t amount = hanse_req_u64(args, "amount");
    hanse_require(strcmp(owner, spender) != 0, "cannot approve oneself");
    set_u64_or_delete(allowance_key(owner, spender), amount);
    hanse_buf out = {0};
    hanse_buf_putc(&out, '{');
    hanse_buf_kv_str(&out, "owner", owner);
    hanse_buf_kv_str(&out, "spender", spender);
    hanse_buf_kv_u64(&out, "amount", amount);
    hanse_buf_putc(&out, '}');
    hanse_emit_buf("approval", &out);
    return_allowance(owner, spender, amount);
}

/// allowance {"owner", "spender"}: {"owner", "spender", "allowance"}.
HANSE_METHOD(allowance) {
    hanse_json args = hanse_args_object();
    static const char *const known[] = {"owner", "spender", 0};
    hanse_json_only(args, known);
    char *owner = hanse_req_address(args, "owner");
    char *spender = hanse_req_address(args, "spender");
    char *k = allowance_key(owner, spender);
    return_allowance(owner, spender, hanse_get_u64(k, 0));
}

/// transfer_from {"from", "to", "amount"}: by a spender within its allowance, which shrinks by amount.
HANSE_METHOD(transfer_from) {
    hanse_json args = hanse_args_object();
    static const char *const known[] = {"from", "to", "amount", 0};
    hanse_json_only(args, known);
    const char *spender = hanse_caller_address();
    char *from = hanse_req_address(args, "from");
    char *to = hanse_req_address(args, "to");
    uint64_t amount = positive_amount(args);
    char *k = allowance_key(from, spender);
    uint64_t allowed = hanse_get_u64(k, 0);
    if (allowed < amount) {
        hanse_buf m = {0};
        hanse_buf_puts(&m, "allowance exceeded: ");
        hanse_buf_puts(&m, spender);
        hanse_buf_puts(&m, " may spend ");
        hanse_buf_u64(&m, allowed);
        hanse_buf_puts(&m, " of ");
        hanse_buf_puts(&m, from);
        hanse_buf_puts(&m, "'s points, not ");
        hanse_buf_u64(&m, amount);
        hanse_revert(m.data, (int32_t)m.len);
    }
    set_u64_or_delete(k, allowed - amount);
    move(from, to, amount);
    transfer_event(from, to, amount, spender);
    return_balance(from);
}

/// info {}: {"admin", "supply"}.
HANSE_METHOD(info) {
    hanse_json args = hanse_args_object();
    static const char *const known[] = {0};
    hanse_json_only(args, known);
    hanse_buf out = {0};
    hanse_buf_putc(&out, '{');
    hanse_buf_kv_str(&out, "admin", admin());
    hanse_buf_kv_u64(&out, "supply", hanse_get_u64("supply", 0));
    hanse_buf_putc(&out, '}');
    hanse_return_buf(&out);
}
