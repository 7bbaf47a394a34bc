// Charity donations with a traceable trail: anyone donates to a project; only the project's admin
// disburses, and only from what donations still hold, naming the donations each disbursement
// draws from; the trail shows every donation, what is left of it, and where it went.
//
// State: project/<p>                 -> {"project","admin","donated","disbursed","donations","disbursements","height","time"}
//        donation/<p>/<id, 10 digits>     -> {"id","project","donor","donor_ref","amount","remaining","height","time","tx"}
//        disbursement/<p>/<id, 10 digits> -> {"id","project","recipient","amount","by","sources":[{"donation","amount"}],"height","time","tx"}
// Ids count from 1 per project; zero-padding makes key order equal id order for state_scan.
#include "hanse.h"
#include "hanse_json.h"

#define TEXT_MAX 256
#define SOURCES_MAX 100

typedef struct {
    char *project;
    char *admin;
    uint64_t donated, disbursed, donations, disbursements;
    int64_t height, time;
} project;

typedef struct {
    uint64_t id;
    char *donor, *donor_ref;
    uint64_t amount, remaining;
    int64_t height, time;
    char *tx;
} donation;

/// project/<p>
static char *project_key(const char *project) {
    hanse_buf k = {0};
    hanse_buf_puts(&k, "project/");
    hanse_buf_puts(&k, project);
    return k.data;
}

/// <kind>/<p>/ then, when id is not 0, the id in 10 digits: a record key, or the prefix of them all.
static char *record_key(const char *kind, const char *project, uint64_t id) {
    hanse_buf k = {0};
    hanse_buf_puts(&k, kind);
    hanse_buf_putc(&k, '/');
    hanse_buf_puts(&k, project);
    hanse_buf_putc(&k, '/');
    if (id) hanse_buf_u64_padded(&k, id, 10);
    return k.data;
}

static int64_t i64_field(hanse_json object, const char *key) { return (int64_t)hanse_req_u64(object, key); }

static hanse_json parse_record(const char *key, char *bytes, uint32_t len) {
    hanse_json v = hanse_json_parse(bytes, len);
    if (hanse_json_type(v) != HANSE_JSON_OBJECT) hanse_revert3("state ", key, " is not a JSON object");
    return v;
}

/// The project, or a revert naming it.
static project load_project(const char *name) {
    char *k = project_key(name);
    uint32_t len;
    char *bytes = hanse_get(k, &len);
    if (!bytes) hanse_revert3("project ", name, " does not exist");
    hanse_json v = parse_record(k, bytes, len);
    project p = {
        .project = hanse_req_str(v, "project"),
        .admin = hanse_req_str(v, "admin"),
        .donated = hanse_req_u64(v, "donated"),
        .disbursed = hanse_req_u64(v, "disbursed"),
        .donations = hanse_req_u64(v, "donations"),
        .disbursements = hanse_req_u64(v, "disbursements"),
        .height = i64_field(v, "height"),
        .time = i64_field(v, "time"),
    };
    return p;
}

static void project_json(hanse_buf *b, const project *p) {
    hanse_buf_putc(b, '{');
    hanse_buf_kv_str(b, "project", p->project);
    hanse_buf_kv_str(b, "admin", p->admin);
    hanse_buf_kv_u64(b, "donated", p->donated);
    hanse_buf_kv_u64(b, "disbursed", p->disbursed);
    hanse_buf_kv_u64(b, "available", p->donated - p->disbursed);
    hanse_buf_kv_u64(b, "donations", p->donations);
    hanse_buf_kv_u64(b, "disbursements", p->disbursements);
    hanse_buf_kv_i64(b, "height", p->height);
    hanse_buf_kv_i64(b, "time", p->time);
    hanse_buf_putc(b, '}');
}

static void save_project(const project *p) {
    hanse_buf b = {0};
    project_json(&b, p);
    char *k = project_key(p->project);
    hanse_put_buf(k, &b);
    free(k);
    hanse_buf_free(&b);
}

static void donation_json(hanse_buf *b, const char *project_name, const donation *d) {
    hanse_buf_putc(b, '{');
    hanse_buf_kv_u64(b, "id", d->id);
    hanse_buf_kv_str(b, "project", project_name);
    hanse_buf_kv_str(b, "donor", d->donor);
    hanse_buf_kv_str(b, "donor_ref", d->donor_ref);
    hanse_buf_kv_u64(b, "amount", d->amount);
    hanse_buf_kv_u64(b, "remaining", d->remaining);
    hanse_buf_kv_i64(b, "height", d->height);
    hanse_buf_kv_i64(b, "time", d->time);
    hanse_buf_kv_str(b, "tx", d->tx);
    hanse_buf_putc(b, '}');
}

static donation load_donation(const char *project_name, uint64_t id) {
    char *k = record_key("donation", project_name, id);
    uint32_t len;
    char *bytes = hanse_get(k, &len);
    if (!bytes) {
        hanse_buf m = {0};
        hanse_buf_puts(&m, "donation ");
        hanse_buf_u64(&m, id);
        hanse_buf_puts(&m, " of project ");
        hanse_buf_puts(&m, project_name);
        hanse_buf_puts(&m, " does not exist");
        hanse_revert(m.data, (int32_t)m.len);
    }
    hanse_json v = parse_record(k, bytes, len);
    donation d = {
        .id = hanse_req_u64(v, "id"),
        .donor = hanse_req_str(v, "donor"),
        .donor_ref = hanse_req_str(v, "donor_ref"),
        .amount = hanse_req_u64(v, "amount"),
        .remaining = hanse_req_u64(v, "remaining"),
        .height = i64_field(v, "height"),
        .time = i64_field(v, "time"),
        .tx = hanse_req_str(v, "tx"),
    };
    free(k);
    return d;
}

static void save_donation(const char *project_name, const donation *d) {
    hanse_buf b = {0};
    donation_json(&b, project_name, d);
    char *k = record_key("donation", project_name, d->id);
    hanse_put_buf(k, &b);
    free(k);
    hanse_buf_free(&b);
}

static char *text_field(hanse_json args, const char *key, bool required) {
    char *s = required ? hanse_req_str(args, key) : hanse_opt_str(args, key);
    if (!s) s = "";
    if (required && !s[0]) hanse_revert3("field \"", key, "\" must not be empty");
    if (strlen(s) > TEXT_MAX) hanse_revert3("field \"", key, "\" is longer than 256 bytes");
    return s;
}

/// create_project {"project"}: the caller becomes the project's admin.
HANSE_METHOD(create_project) {
    hanse_json args = hanse_args_object();
    static const char *const known[] = {"project", 0};
    hanse_json_only(args, known);
    char *name = hanse_req_id(args, "project");
    char *k = project_key(name);
    if (hanse_has(k)) hanse_revert3("project ", name, " already exists");
    project p = {.project = name, .admin = (char *)hanse_caller_address(),
                 .height = hanse_block_height(), .time = hanse_block_time()};
    save_project(&p);
    hanse_buf out = {0};
    project_json(&out, &p);
    hanse_emit_buf("project_created", &out);
    hanse_return_buf(&out);
}

/// donate {"project", "amount", "donor_ref"?}: records a donation by the caller. donor_ref is the
/// donor's own reference (a receipt number, a name, or empty).
HANSE_METHOD(donate) {
    hanse_json args = hanse_args_object();
    static const char *const known[] = {"project", "amount", "donor_ref", 0};
    hanse_json_only(args, known);
    char *name = hanse_req_id(args, "project");
    uint64_t amount = hanse_req_u64(args, "amount");
    hanse_require(amount > 0, "amount must be above 0");
    char *ref = text_field(args, "donor_ref", false);
    project p = load_project(name);
    p.donated = hanse_add_u64(p.donated, amount, "the project's donations would exceed 2^64-1");
    p.donations += 1;
    donation d = {.id = p.donations, .donor = (char *)hanse_caller_address(), .donor_ref = ref, .amount = amount,
                  .remaining = amount, .height = hanse_block_height(), .time = hanse_block_time(), .tx = (char *)hanse_tx_hex()};
    save_donation(name, &d);
    save_project(&p);
    hanse_buf out = {0};
    donation_json(&out, name, &d);
    hanse_emit_buf("donation_received", &out);
    hanse_return_buf(&out);
}

/// disburse {"project", "recipient", "amount", "donation_ids": [id, ...]}: by the project's admin.
/// Draws the amount from the listed donations in order, each giving what it has left until the
/// amount is covered; every listed donation must contribute, and none may be listed twice.
HANSE_METHOD(disburse) {
    hanse_json args = hanse_args_object();
    static const char *const known[] = {"project", "recipient", "amount", "donation_ids", 0};
    hanse_json_only(args, known);
    char *name = hanse_req_id(args, "project");
    char *recipient = text_field(args, "recipient", true);
    uint64_t amount = hanse_req_u64(args, "amount");
    hanse_require(amount > 0, "amount must be above 0");
    hanse_json ids = hanse_req_array(args, "donation_ids");
    project p = load_project(name);
    const char *caller = hanse_caller_address();
    if (strcmp(caller, p.admin) != 0) hanse_revert3("only the project's admin ", p.admin, " may disburse");

    donation sources[SOURCES_MAX];
    uint64_t taken[SOURCES_MAX];
    uint32_t count = 0, pos = 0;
    uint64_t needed = amount;
    hanse_json item;
    while (hanse_json_next(ids, &pos, 0, &item)) {
        uint64_t id;
        if (!hanse_json_u64(item, &id) || id == 0) hanse_revert_str("donation_ids must be donation ids (integers from 1)");
        if (count == SOURCES_MAX) hanse_revert_str("donation_ids may list at most 100 donations");
        for (uint32_t i = 0; i < count; i++) {
            if (sources[i].id == id) hanse_revert_str("donation_ids lists a donation twice");
        }
        donation d = load_donation(name, id);
        hanse_buf m = {0};
        if (needed == 0 || d.remaining == 0) {
            hanse_buf_puts(&m, "donation ");
            hanse_buf_u64(&m, id);
            hanse_buf_puts(&m, needed == 0 ? " is not needed: the donations before it cover the amount" : " has nothing left");
            hanse_revert(m.data, (int32_t)m.len);
        }
        uint64_t take = d.remaining < needed ? d.remaining : needed;
        d.remaining -= take;
        needed -= take;
        sources[count] = d;
        taken[count] = take;
        count++;
    }
    if (count == 0) hanse_revert_str("donation_ids must list at least one donation");
    if (needed > 0) {
        hanse_buf m = {0};
        hanse_buf_puts(&m, "the listed donations hold ");
        hanse_buf_u64(&m, amount - needed);
        hanse_buf_puts(&m, ", less than the ");
        hanse_buf_u64(&m, amount);
        hanse_buf_puts(&m, " to disburse");
        hanse_revert(m.data, (int32_t)m.len);
    }
    for (uint32_t i = 0; i < count; i++) save_donation(name, &sources[i]);
    p.disbursed = hanse_add_u64(p.disbursed, amount, "disbursed total overflows");
    // Never fails: each donation gives at most what it has left, so disbursed <= donated.
    hanse_require(p.disbursed <= p.donated, "internal error: more disbursed than donated");
    p.disbursements += 1;
    save_project(&p);

    hanse_buf out = {0};
    hanse_buf_putc(&out, '{');
    hanse_buf_kv_u64(&out, "id", p.disbursements);
    hanse_buf_kv_str(&out, "project", name);
    hanse_buf_kv_str(&out, "recipient", recipient);
    hanse_buf_kv_u64(&out, "amount", amount);
    hanse_buf_kv_str(&out, "by", caller);
    hanse_buf_key(&out, "sources");
    hanse_buf_putc(&out, '[');
    for (uint32_t i = 0; i < count; i++) {
        if (i) hanse_buf_putc(&out, ',');
        hanse_buf_putc(&out, '{');
        hanse_buf_kv_u64(&out, "donation", sources[i].id);
        hanse_buf_kv_u64(&out, "amount", taken[i]);
        hanse_buf_kv_str(&out, "donor", sources[i].donor);
        hanse_buf_putc(&out, '}');
    }
    hanse_buf_putc(&out, ']');
    hanse_buf_kv_i64(&out, "height", hanse_block_height());
    hanse_buf_kv_i64(&out, "time", hanse_block_time());
    hanse_buf_kv_str(&out, "tx", hanse_tx_hex());
    hanse_buf_putc(&out, '}');
    char *k = record_key("disbursement", name, p.disbursements);
    hanse_put_buf(k, &out);
    hanse_emit_buf("disbursed", &out);
    hanse_return_buf(&out);
}

/// Appends `[record, ...]` of every key under prefix (JSON values, copied as stored).
static void append_all(hanse_buf *out, const char *prefix) {
    hanse_page page;
    char *after = 0;
    uint32_t after_len = 0;
    bool first = true;
    hanse_buf_putc(out, '[');
    for (;;) {
        hanse_scan(prefix, after, after_len, 100, &page);
        for (uint32_t i = 0; i < page.count; i++) {
            if (!first) hanse_buf_putc(out, ',');
            first = false;
            hanse_buf_append(out, page.entries[i].value, page.entries[i].value_len);
        }
        if (page.count < 100) break;
        free(after);
        after_len = page.entries[page.count - 1].key_len;
        after = malloc(after_len);
        memcpy(after, page.entries[page.count - 1].key, after_len);
        hanse_page_free(&page);
    }
    hanse_page_free(&page);
    free(after);
    hanse_buf_putc(out, ']');
}

/// trail {"project"}: {"project": {...}, "donations": [...], "disbursements": [...]}, in id order.
HANSE_METHOD(trail) {
    hanse_json args = hanse_args_object();
    static const char *const known[] = {"project", 0};
    hanse_json_only(args, known);
    char *name = hanse_req_id(args, "project");
    project p = load_project(name);
    hanse_buf out = {0};
    hanse_buf_puts(&out, "{\"project\":");
    project_json(&out, &p);
    hanse_buf_puts(&out, ",\"donations\":");
    append_all(&out, record_key("donation", name, 0));
    hanse_buf_puts(&out, ",\"disbursements\":");
    append_all(&out, record_key("disbursement", name, 0));
    hanse_buf_putc(&out, '}');
    hanse_return_buf(&out);
}
