-- Outbox ids from one sequence for every replica: a session's messages
-- leave in id order, and ids taken from each replica's clock would put a
-- later message first whenever clocks disagree. Open moves the sequence
-- past the clock and past every id already stored (bbolt's were clock
-- readings, and migrate copies them).

-- +goose Up
CREATE SEQUENCE outbox_ids AS bigint;

-- +goose Down
DROP SEQUENCE outbox_ids;
