-- Customers (BusOrg numbers), their OAuth2 API clients and issued access tokens.
CREATE TABLE customers (
    customer_number text PRIMARY KEY,
    name            text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_clients (
    client_id       text PRIMARY KEY,
    customer_number text NOT NULL REFERENCES customers (customer_number),
    secret_hash     text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- Only a SHA-256 of each bearer token is kept: a database dump yields no usable token.
CREATE TABLE access_tokens (
    token_hash      bytea PRIMARY KEY,
    client_id       text NOT NULL REFERENCES api_clients (client_id),
    customer_number text NOT NULL REFERENCES customers (customer_number),
    issued_at       timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL
);
CREATE INDEX access_tokens_expires_at ON access_tokens (expires_at);
