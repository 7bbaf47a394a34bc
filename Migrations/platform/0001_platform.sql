-- The platform catalogue: tenants, their API keys, chains, validators and identities, plus
-- settings. Runs with search_path set to the platform schema. Limits mirror Limits.swift and
-- the API's validation; later migrations extend these tables.

CREATE TABLE settings (
    key        text PRIMARY KEY CHECK (key ~ '^[a-z0-9_.]{1,64}$'),
    value      text NOT NULL CHECK (length(value) <= 4096),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tenants (
    id         uuid PRIMARY KEY,
    name       text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    display    text NOT NULL DEFAULT '' CHECK (length(display) <= 200),
    status     text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'deleted')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- API keys are shown once; only the SHA-256 of the secret is kept. The prefix identifies a key in
-- lists and logs without revealing it.
CREATE TABLE api_keys (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    prefix      text NOT NULL UNIQUE CHECK (prefix ~ '^[A-Za-z0-9_]{8,32}$'),
    secret_hash bytea NOT NULL CHECK (length(secret_hash) = 32),
    scopes      text[] NOT NULL CHECK (scopes <@ ARRAY['admin', 'write', 'read'] AND cardinality(scopes) >= 1),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at);

CREATE TABLE chains (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    name         text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    schema_name  text NOT NULL UNIQUE CHECK (schema_name ~ '^chain_[a-z0-9_]{1,57}$'),
    consensus    text NOT NULL CHECK (consensus IN ('solo', 'bft', 'raft')),
    status       text NOT NULL DEFAULT 'provisioning'
                 CHECK (status IN ('provisioning', 'running', 'stopped', 'archived', 'failed')),
    config       jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (pg_column_size(config) <= 65536),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name)
);

CREATE TABLE validators (
    chain_id    uuid NOT NULL REFERENCES chains (id) ON DELETE CASCADE,
    index       integer NOT NULL CHECK (index BETWEEN 0 AND 127),
    algorithm   text NOT NULL CHECK (algorithm IN ('p256', 'ed25519', 'sm2')),
    public_key  bytea NOT NULL CHECK (length(public_key) BETWEEN 32 AND 133),
    -- Private key wrapped with AES-256-GCM under the master key (nonce || ciphertext || tag).
    wrapped_key bytea CHECK (length(wrapped_key) <= 512),
    node        text NOT NULL DEFAULT 'local' CHECK (length(node) <= 200),
    PRIMARY KEY (chain_id, index)
);

CREATE TABLE identities (
    id          uuid PRIMARY KEY,
    chain_id    uuid NOT NULL REFERENCES chains (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$'),
    role        text NOT NULL CHECK (role IN ('admin', 'writer', 'reader')),
    mode        text NOT NULL CHECK (mode IN ('custodial', 'external')),
    algorithm   text NOT NULL CHECK (algorithm IN ('p256', 'ed25519', 'sm2')),
    public_key  bytea NOT NULL CHECK (length(public_key) BETWEEN 32 AND 133),
    wrapped_key bytea CHECK (length(wrapped_key) <= 512),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    UNIQUE (chain_id, name),
    UNIQUE (chain_id, public_key),
    CHECK ((mode = 'custodial') = (wrapped_key IS NOT NULL))
);
