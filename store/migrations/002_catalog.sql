-- The catalogue (partners, their NaaS locations, speeds and hourly rates), the quotes
-- priced from it, and the customers' billing accounts. Loaded by `iod catalog load`.

CREATE TABLE partners (
    id                    text PRIMARY KEY,
    name                  text NOT NULL,
    datacenter_fabric_url text NOT NULL DEFAULT '',
    partner_type          text NOT NULL DEFAULT 'CLOUD_PARTNER'
);

CREATE TABLE locations (
    master_site_id        text PRIMARY KEY,
    partner_id            text NOT NULL REFERENCES partners (id),
    street_address        text NOT NULL,
    city                  text NOT NULL,
    state_or_province     text NOT NULL,
    locality              text,
    country               text NOT NULL,
    post_code             text,
    post_code_extension   text,
    network_status        text NOT NULL DEFAULT 'ON_NET',
    naas_enabled          boolean NOT NULL DEFAULT true,
    partner_display_name  text NOT NULL,
    market                text NOT NULL,
    product_family        text NOT NULL DEFAULT 'Internet On-Demand',
    updated_at            timestamptz NOT NULL DEFAULT now()
);
-- Listing a partner's NaaS-enabled locations page by page: an index-ordered scan that
-- stops after the page (and an index-only count), whatever the number of locations.
CREATE INDEX locations_partner_listing
    ON locations (partner_id, master_site_id) WHERE naas_enabled;

CREATE TABLE location_speeds (
    master_site_id  text NOT NULL REFERENCES locations (master_site_id) ON DELETE CASCADE,
    speed           text NOT NULL,           -- canonical, in Mbps: '100 Mbps', '1000 Mbps'
    display_value   text NOT NULL,           -- '100 Mbps', '1 Gbps'
    circuit_type    text NOT NULL DEFAULT 'Hosted-NNI Internet',
    hourly_rate     numeric(12, 4) NOT NULL CHECK (hourly_rate >= 0),
    PRIMARY KEY (master_site_id, speed)
);

-- Quote ids are 'NaaS-<n>', n from a sequence: unique and never reused.
CREATE SEQUENCE quote_number_seq START WITH 1001;

CREATE TABLE quotes (
    id              text PRIMARY KEY
                    DEFAULT ('NaaS-' || nextval('quote_number_seq')::text),
    customer_number text NOT NULL REFERENCES customers (customer_number),
    master_site_id  text NOT NULL REFERENCES locations (master_site_id),
    partner_id      text NOT NULL REFERENCES partners (id),
    product_code    text NOT NULL,
    speed           text NOT NULL,
    currency_code   text NOT NULL,
    hourly_rate     numeric NOT NULL,
    monthly_rate    numeric NOT NULL,
    price_request   json NOT NULL,   -- json, not jsonb: the echo keeps the client's key order
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    consumed_by     text NULL,
    consumed_at     timestamptz NULL
);
CREATE INDEX quotes_customer_created ON quotes (customer_number, created_at);

CREATE TABLE billing_accounts (
    id                     text PRIMARY KEY,
    customer_number        text NOT NULL REFERENCES customers (customer_number),
    name                   text NOT NULL,
    invoice_display_number text NOT NULL,
    street_address         text NOT NULL,
    city                   text NOT NULL,
    state_or_province      text,
    country                text NOT NULL,
    postcode               text,
    currency               text NOT NULL,
    country_code           text NOT NULL,
    hq_country             text NOT NULL,
    entitled               boolean NOT NULL DEFAULT true
);
CREATE INDEX billing_accounts_customer ON billing_accounts (customer_number, id);
