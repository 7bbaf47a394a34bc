public import API
internal import PostgresStorage

/// `Idempotency-Key` answers in `platform.idempotency_keys`, kept 24 hours. Bodies are sealed
/// with the master key (some answers carry a secret shown once: an API key, a webhook secret).
extension Platform: IdempotencyStore {
    public func begin(tenant: String, key: String, fingerprint: [UInt8]) throws -> IdempotencyClaim {
        try pool.withConnection { connection in
            // Claim the key (status 102 = running), or take over one older than a day.
            let claimed = try connection.query(sql: """
                INSERT INTO platform.idempotency_keys (tenant_id, key, request_hash, status, body) VALUES ($1::uuid, $2, $3, 102, '')
                ON CONFLICT (tenant_id, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status = 102, body = '', created_at = now()
                    WHERE idempotency_keys.created_at < now() - interval '24 hours'
                RETURNING 1
                """, name: "platform.idempotency.claim", [.text(tenant), .text(key), .bytea(fingerprint)]).count == 1
            if claimed { return .proceed }
            guard let row = try connection.query(sql: """
                SELECT request_hash, status, body FROM platform.idempotency_keys WHERE tenant_id = $1::uuid AND key = $2
                """, name: "platform.idempotency.get", [.text(tenant), .text(key)]).first else { return .proceed }
            let stored: [UInt8] = try row.decode(column: 0)
            guard stored == fingerprint else { return .mismatch }
            let status: Int = try row.decode(column: 1)
            if status == 102 { return .inProgress }
            return .replay(status: status, body: try vault.open(try row.decode(column: 2), purpose: "idempotency:\(tenant):\(key)"))
        }
    }

    public func finish(tenant: String, key: String, status: Int, body: [UInt8]) {
        guard body.count <= (1 << 20) - 64 else { return abandon(tenant: tenant, key: key) }
        do {
            let sealed = try vault.seal(body, purpose: "idempotency:\(tenant):\(key)")
            try pool.withConnection { connection in
                _ = try connection.query(sql: """
                    UPDATE platform.idempotency_keys SET status = $3, body = $4 WHERE tenant_id = $1::uuid AND key = $2
                    """, name: "platform.idempotency.finish", [.text(tenant), .text(key), .int(status), .bytea(sealed)])
            }
        } catch {
            logger.error("idempotency record not kept", metadata: ["error": "\(error)"])
            abandon(tenant: tenant, key: key)
        }
    }

    public func abandon(tenant: String, key: String) {
        _ = try? pool.withConnection { connection in
            try connection.query(sql: "DELETE FROM platform.idempotency_keys WHERE tenant_id = $1::uuid AND key = $2 AND status = 102",
                                 name: "platform.idempotency.abandon", [.text(tenant), .text(key)])
        }
    }
}
