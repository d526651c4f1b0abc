-- Which replica stored each pending update (bot.Inbox): a replica that
-- restarts takes over only its own updates and those of replicas that are
-- no longer live, not the ones a live replica is handling right now.
-- Rows stored before this column existed have no owner: anyone takes them.

-- +goose Up
ALTER TABLE inbox ADD COLUMN owner text;

-- +goose Down
ALTER TABLE inbox DROP COLUMN owner;
