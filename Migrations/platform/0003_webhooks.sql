-- Webhooks: subscriptions per chain, the outbox of deliveries (rows written in the same
-- transaction as the block whose events they carry) and the log of every delivery attempt.
-- Runs with search_path set to the platform schema.

CREATE TABLE webhook_subscriptions (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    chain_id        uuid NOT NULL REFERENCES chains (id) ON DELETE CASCADE,
    url             text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    -- The signing secret, wrapped with the platform master key (purpose "webhook:<id>").
    secret_wrapped  bytea NOT NULL,
    description     text NOT NULL DEFAULT '' CHECK (length(description) <= 200),
    contract        text CHECK (length(contract) BETWEEN 1 AND 64),
    topic           text CHECK (length(topic) BETWEEN 1 AND 128),
    kind            text CHECK (kind IN ('contract', 'block')),
    state           text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused')),
    max_attempts    integer NOT NULL CHECK (max_attempts BETWEEN 1 AND 100),
    max_age_seconds integer NOT NULL CHECK (max_age_seconds BETWEEN 60 AND 604800),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_subscriptions_chain ON webhook_subscriptions (chain_id);
CREATE INDEX webhook_subscriptions_tenant ON webhook_subscriptions (tenant_id, created_at, id);

-- The outbox: one row per (subscription, event). Delivered in event order per subscription.
CREATE TABLE webhook_deliveries (
    id              bigserial PRIMARY KEY,
    subscription_id uuid NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    event_seq       bigint NOT NULL CHECK (event_seq >= 0),
    event_height    bigint NOT NULL CHECK (event_height >= 0),
    -- When the delivery's age starts: the block's timestamp, or the time of a redrive. A pending
    -- delivery older than the subscription's max_age_seconds is dead.
    age_from_ms     bigint NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_ms bigint NOT NULL DEFAULT 0,
    last_status     integer,
    last_error      text CHECK (length(last_error) <= 1000),
    finished_ms     bigint,
    UNIQUE (subscription_id, event_seq)
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (subscription_id, event_seq) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_status ON webhook_deliveries (subscription_id, status, id);

-- The delivery log: every attempt with its outcome.
-- A redrive starts counting attempts from 1 again; the log keeps every attempt.
CREATE TABLE webhook_attempts (
    id          bigserial PRIMARY KEY,
    delivery_id bigint NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt     integer NOT NULL CHECK (attempt >= 1),
    at_ms       bigint NOT NULL,
    duration_ms integer NOT NULL CHECK (duration_ms >= 0),
    status      integer,
    error       text CHECK (length(error) <= 1000)
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
-- Pruning the delivery log of old delivered rows.
CREATE INDEX webhook_deliveries_prune ON webhook_deliveries (finished_ms) WHERE status = 'delivered';
