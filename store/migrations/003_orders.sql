-- Order requests (the status read model kept by the workflow's activities), the
-- services they create (inventory), the resources those services hold, and the
-- sandbox provisioning backend's own records.

CREATE TABLE order_requests (
    id              uuid PRIMARY KEY,
    customer_number text NOT NULL REFERENCES customers (customer_number),
    external_id     text NOT NULL,
    idempotency_key text,
    action          text NOT NULL CHECK (action IN ('add', 'modify', 'delete')),
    channel         text NOT NULL CHECK (channel IN ('v3', 'v4', 'sa')),
    -- The response echo: the request body as received plus its id.
    body            json NOT NULL,       -- json, not jsonb: the echo keeps the client's key order
    request_hash    text NOT NULL,
    quote_id        text,
    target_service_id text,
    -- Service Activation orders: the access (line) the order is for.
    access_id       text,
    -- PENDING until the workflow accepted it (quote consumed); then RUNNING and one
    -- terminal state. A PENDING order is not visible to the customer.
    state           text NOT NULL DEFAULT 'PENDING'
                    CHECK (state IN ('PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
    step            text NOT NULL DEFAULT 'received',
    step_message    text NOT NULL DEFAULT '',
    order_number    text UNIQUE,
    service_id      text,
    error_code      text,
    error_message   text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    completed_at    timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX order_requests_idempotency
    ON order_requests (customer_number, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE UNIQUE INDEX order_requests_external_id ON order_requests (customer_number, external_id);
CREATE INDEX order_requests_customer_created ON order_requests (customer_number, created_at);
CREATE INDEX order_requests_access ON order_requests (customer_number, access_id, created_at)
    WHERE access_id IS NOT NULL;

CREATE SEQUENCE order_number_seq;
CREATE SEQUENCE service_id_seq;

CREATE TABLE services (
    service_id        text PRIMARY KEY,
    customer_number   text NOT NULL REFERENCES customers (customer_number),
    billing_account_id text NOT NULL,
    billing_account_name text NOT NULL,
    master_site_id    text NOT NULL,
    speed             text NOT NULL,
    customer_service_name text NOT NULL,
    ipv4_block_size   text NOT NULL,
    status            text NOT NULL
                      CHECK (status IN ('Active', 'Change Pending', 'Disconnect Pending', 'Disconnected')),
    -- the order currently changing this service, if any (one change at a time)
    pending_order_id  uuid,
    created_by_order  uuid NOT NULL UNIQUE,
    activated_at      timestamptz NOT NULL DEFAULT now(),
    disconnected_at   timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX services_customer ON services (customer_number, service_id);

-- Resources: an IPv4 block and a VLAN per service, never handed out twice while held.
CREATE TABLE ipv4_pools (
    cidr cidr PRIMARY KEY
);
CREATE TABLE ipv4_allocations (
    order_request_id uuid PRIMARY KEY,
    block            cidr NOT NULL,
    service_id       text,
    allocated_at     timestamptz NOT NULL DEFAULT now(),
    released_at      timestamptz,
    -- The database itself refuses two live allocations that overlap.
    EXCLUDE USING gist (block inet_ops WITH &&) WHERE (released_at IS NULL)
);
CREATE TABLE vlan_allocations (
    order_request_id uuid PRIMARY KEY,
    master_site_id   text NOT NULL,
    vlan_id          integer NOT NULL CHECK (vlan_id BETWEEN 2 AND 4094),
    service_id       text,
    allocated_at     timestamptz NOT NULL DEFAULT now(),
    released_at      timestamptz
);
CREATE UNIQUE INDEX vlan_allocations_live
    ON vlan_allocations (master_site_id, vlan_id) WHERE released_at IS NULL;

INSERT INTO ipv4_pools (cidr) VALUES ('198.18.0.0/16');

-- The sandbox provisioning backend's own state: numbers it handed out (idempotent per
-- order request, as a real order system keyed by our request id would be) and the
-- attempts it saw (so "fail N times" triggers work across workers and restarts).
CREATE TABLE sandbox_orders (
    order_request_id uuid PRIMARY KEY,
    order_number     text NOT NULL UNIQUE
        DEFAULT (88000000000 + nextval('order_number_seq'))::text,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE sandbox_services (
    order_request_id uuid PRIMARY KEY,
    service_id       text NOT NULL UNIQUE
        DEFAULT (77000000000 + nextval('service_id_seq'))::text,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE sandbox_attempts (
    order_request_id uuid NOT NULL,
    step             text NOT NULL,
    attempts         integer NOT NULL DEFAULT 0,
    PRIMARY KEY (order_request_id, step)
);
