-- The product catalogue, fetched from Bitrefill by one replica (the jobs'
-- leader) and read by the others, so that the catalogue costs Bitrefill's
-- product budget once, not once per replica.

-- +goose Up
CREATE TABLE catalogue (
    name     text PRIMARY KEY, -- "products", "esims"
    products bytea NOT NULL,   -- JSON list of bitrefill.Product
    fetched  timestamptz NOT NULL
);

-- +goose Down
DROP TABLE catalogue;
