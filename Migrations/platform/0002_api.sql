-- The tenant API: quotas and usage per tenant, chain configuration and genesis, asynchronous
-- operations, idempotency records and the audit log. Runs with search_path set to the platform
-- schema.

ALTER TABLE tenants
    ADD COLUMN quota_chains        integer NOT NULL DEFAULT 10 CHECK (quota_chains BETWEEN 0 AND 10000),
    ADD COLUMN quota_tx_per_second integer NOT NULL DEFAULT 1000 CHECK (quota_tx_per_second BETWEEN 1 AND 1000000),
    ADD COLUMN quota_storage_bytes bigint NOT NULL DEFAULT 10737418240 CHECK (quota_storage_bytes >= 0);

ALTER TABLE chains
    ADD COLUMN genesis_hash bytea CHECK (genesis_hash IS NULL OR length(genesis_hash) = 32),
    ADD COLUMN failure      text CHECK (length(failure) <= 4096);

-- Long-running requests (chain provisioning): created with the request, polled by the client.
CREATE TABLE operations (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('provision_chain')),
    target_id   uuid NOT NULL,
    status      text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
    error       text CHECK (length(error) <= 4096),
    created_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX operations_tenant ON operations (tenant_id, created_at);

-- Idempotency-Key: the first answer to a key is kept with a hash of its request and replayed.
CREATE TABLE idempotency_keys (
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    request_hash bytea NOT NULL CHECK (length(request_hash) = 32),
    status       integer NOT NULL CHECK (status BETWEEN 100 AND 599),
    body         bytea NOT NULL CHECK (length(body) <= 1048576),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);

-- One row per state-changing call: who (operator or API key), what (method, route, target),
-- when, with which request id and outcome.
CREATE TABLE audit_log (
    seq        bigserial PRIMARY KEY,
    tenant_id  uuid REFERENCES tenants (id) ON DELETE SET NULL,
    actor      text NOT NULL CHECK (length(actor) <= 200),
    action     text NOT NULL CHECK (length(action) <= 200),
    target     text NOT NULL DEFAULT '' CHECK (length(target) <= 400),
    request_id text NOT NULL CHECK (length(request_id) <= 64),
    status     integer NOT NULL CHECK (status BETWEEN 100 AND 599),
    at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, seq);

-- Usage counters per tenant and day.
CREATE TABLE usage (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    day       date NOT NULL,
    requests  bigint NOT NULL DEFAULT 0,
    txs       bigint NOT NULL DEFAULT 0,
    gas       bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day)
);
