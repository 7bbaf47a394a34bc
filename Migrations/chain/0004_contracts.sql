-- Contracts: a transaction's read set (BlockRoots.encodeReadSet, committed by the write-set
-- root), and room for `_system` deploys, whose arguments carry the contract code
-- (Limits.systemArgsBytesMax = 720 KiB of arguments, so signed bytes stay under 1 MiB).
ALTER TABLE transactions ADD COLUMN read_set bytea NOT NULL DEFAULT '\x00000000'::bytea
    CHECK (length(read_set) <= 16777216);
ALTER TABLE transactions DROP CONSTRAINT transactions_signed_bytes_check;
ALTER TABLE transactions ADD CONSTRAINT transactions_signed_bytes_check CHECK (length(signed_bytes) <= 1048576);
