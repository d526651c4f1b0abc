-- The operator's records (bot.StatsStore, bot.BroadcastStore): daily
-- statistics, one JSON record per UTC day that replicas add to under a row
-- lock, and the current (or last) broadcast. Counts, sums and the
-- operator's own text only: nothing secret, so nothing is sealed.

-- +goose Up
CREATE TABLE stats (
    day    text  PRIMARY KEY, -- 2006-01-02, UTC; sorts by date
    record jsonb NOT NULL
);
CREATE TABLE broadcast (
    id     smallint PRIMARY KEY CHECK (id = 1), -- one row: the current broadcast
    record jsonb    NOT NULL
);

-- +goose Down
DROP TABLE broadcast;
DROP TABLE stats;
