-- The platforms' inbox (bot.Inbox): updates stored before the platform is
-- told they were received, so a replica's death loses none, and remembered
-- for a day once handled, so an update the platform sends again — to any
-- replica — is recognised by its id and not handled twice.

-- +goose Up
CREATE TABLE inbox (
    platform text   NOT NULL,
    id       bigint NOT NULL,
    raw      bytea,        -- sealed update; NULL once done
    done     timestamptz,  -- when it was handled; NULL while pending
    PRIMARY KEY (platform, id)
);
CREATE INDEX inbox_pending ON inbox (platform, id) WHERE done IS NULL;
CREATE INDEX inbox_done ON inbox (done) WHERE done IS NOT NULL;

-- +goose Down
DROP TABLE inbox;
