-- Block events: every committed block adds one event of kind 'block' (tx_index -1, before the
-- block's contract events), so that one per-chain sequence orders everything a consumer can
-- follow (docs/events.md). Its data is the JSON PostgresChainStore.blockEventData writes, byte
-- for byte (the auditor compares). Existing blocks get theirs here and every event is renumbered in the
-- (height, tx_index, event_index) order the auditor checks.
ALTER TABLE events ADD COLUMN kind text NOT NULL DEFAULT 'contract' CHECK (kind IN ('contract', 'block'));
ALTER TABLE events DROP CONSTRAINT events_event_index_check;
ALTER TABLE events ADD CONSTRAINT events_position CHECK (
    event_index >= 0 AND ((kind = 'block' AND tx_index = -1 AND event_index = 0) OR (kind = 'contract' AND tx_index >= 0)));

INSERT INTO events (seq, height, tx_index, event_index, contract, topic, data, kind)
SELECT (SELECT coalesce(max(seq), 0) FROM events) + 1 + b.height, b.height, -1, 0, '_chain', 'block',
       convert_to('{"height":' || b.height || ',"hash":"' || encode(b.hash, 'hex') || '","transactions":'
                  || (SELECT count(*) FROM transactions t WHERE t.height = b.height) || ',"ledger_size":' || b.ledger_size
                  || ',"timestamp_ms":' || b.timestamp_ms || '}', 'UTF8'), 'block'
FROM blocks b;
UPDATE events SET seq = seq + 4611686018427387904;
UPDATE events e SET seq = r.position
FROM (SELECT seq, row_number() OVER (ORDER BY height, tx_index, event_index) - 1 AS position FROM events) r
WHERE e.seq = r.seq;

CREATE INDEX events_by_kind ON events (kind, seq);
