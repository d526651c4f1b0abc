-- The first schema: what the bbolt store keeps, one table per bucket, plus
-- what replicas need to coordinate (outbox claims).

-- +goose Up
CREATE TABLE meta (
    name  text PRIMARY KEY,
    value bytea NOT NULL
);

CREATE TABLE sessions (
    platform text NOT NULL,
    user_id  text NOT NULL,
    -- versioned JSON of conversation.State, sealed: it can hold a code
    state    bytea NOT NULL,
    -- the last private address, for notifications no user event prompts
    address  jsonb,
    changed  timestamptz NOT NULL,
    PRIMARY KEY (platform, user_id)
);

CREATE TABLE tracked (
    invoice_id text PRIMARY KEY,
    platform   text NOT NULL,
    user_id    text NOT NULL,
    created    timestamptz NOT NULL,
    -- the whole bot.Tracked, exact times included
    record     jsonb NOT NULL
);

CREATE TABLE settled (
    invoice_id text PRIMARY KEY,
    at         timestamptz NOT NULL
);

CREATE TABLE checkouts (
    checkout   text PRIMARY KEY,
    invoice_id text NOT NULL,
    at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE outbox (
    id            bigint PRIMARY KEY,
    platform      text NOT NULL,
    user_id       text NOT NULL,
    next_try      timestamptz NOT NULL,
    -- the whole bot.OutboxRecord as versioned JSON, sealed: it can hold a code
    record        bytea NOT NULL,
    -- the replica sending it, until when: another replica leaves it alone
    -- until the lease runs out
    claimed_by    text,
    claimed_until timestamptz
);
CREATE INDEX outbox_session ON outbox (platform, user_id, id);
CREATE INDEX outbox_next_try ON outbox (next_try);

CREATE TABLE views (
    invoice_id text PRIMARY KEY,
    address    jsonb NOT NULL,
    ref        text NOT NULL,
    at         timestamptz NOT NULL
);

CREATE TABLE schedule (
    name   text NOT NULL,
    due    timestamptz NOT NULL,
    -- the whole bot.Scheduled, exact due time included
    record jsonb NOT NULL,
    PRIMARY KEY (name, due)
);
CREATE INDEX schedule_due ON schedule (due);

CREATE TABLE marks (
    name text PRIMARY KEY,
    at   timestamptz NOT NULL
);

-- +goose Down
DROP TABLE marks, schedule, views, outbox, checkouts, settled, tracked, sessions, meta;
