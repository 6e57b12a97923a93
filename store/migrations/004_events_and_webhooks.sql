-- The order event log (append-only: the feed, the webhooks and the audit trail all
-- read it) and the webhook subscriptions with their delivery attempts.

CREATE TABLE order_events (
    -- Assigned while the appender holds the customer's transaction-scoped advisory lock
    -- (see store/events.py): per customer, seq order is commit order.
    seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        uuid NOT NULL UNIQUE,
    -- The same key is the same event: a retried append finds it instead of adding one.
    dedupe_key      text NOT NULL UNIQUE,
    customer_number text NOT NULL REFERENCES customers (customer_number),
    order_id        text NOT NULL,
    event_type      text NOT NULL CHECK (event_type ~ '^[A-Z][A-Z_]*$'),
    -- The Service Activation view of the order; json (not jsonb) keeps it byte for byte.
    feed_order      json NOT NULL,
    payload         jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX order_events_customer_seq ON order_events (customer_number, seq);
CREATE INDEX order_events_feed ON order_events (customer_number, seq)
    WHERE event_type IN ('DONE_SUCCESS', 'DONE_FAILED');
CREATE INDEX order_events_order ON order_events (customer_number, order_id, seq);

CREATE FUNCTION order_events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'order_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER order_events_append_only
    BEFORE UPDATE OR DELETE ON order_events
    FOR EACH ROW EXECUTE FUNCTION order_events_refuse_change();
CREATE TRIGGER order_events_no_truncate
    BEFORE TRUNCATE ON order_events
    FOR EACH STATEMENT EXECUTE FUNCTION order_events_refuse_change();

CREATE TABLE webhook_subscriptions (
    id              uuid PRIMARY KEY,
    customer_number text NOT NULL REFERENCES customers (customer_number),
    callback        text NOT NULL,
    query           text,
    -- Parsed from query: the order event types delivered; NULL means all of them.
    event_types     text[],
    -- The signing secret (whsec_…). Needed in clear to sign; never returned after the
    -- POST that created it, never logged; wiped when the subscription is deleted.
    secret          text,
    status          text NOT NULL DEFAULT 'active'
                    CHECK (status IN ('active', 'disabled', 'deleted')),
    disabled_reason text,
    -- Every event with seq <= cursor_seq was delivered (or filtered out).
    cursor_seq      bigint NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (status = 'deleted' OR secret IS NOT NULL)
);
CREATE INDEX webhook_subscriptions_customer ON webhook_subscriptions (customer_number, created_at)
    WHERE status <> 'deleted';

-- One row per attempt (a retried event has several), including test events.
CREATE TABLE webhook_deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscription_id uuid NOT NULL REFERENCES webhook_subscriptions (id),
    message_id      text NOT NULL,
    event_seq       bigint,
    event_type      text NOT NULL,
    attempt         integer NOT NULL,
    attempted_at    timestamptz NOT NULL DEFAULT now(),
    outcome         text NOT NULL CHECK (outcome IN ('delivered', 'failed', 'gone')),
    status_code     integer,
    error           text,
    duration_ms     integer NOT NULL
);
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, id);
