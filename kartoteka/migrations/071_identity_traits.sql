-- Resolver-owned (issue 20): each customer's strong attributes, first known wins. A merge
-- through a shared identifier between customers whose traits conflict is held for review.
CREATE TABLE IF NOT EXISTS identity_traits (
    customer_id uuid PRIMARY KEY,
    birth_date  text,
    first_name  text,
    surname     text
);

-- Customers held off a shared identifier: another person (by their traits) reached us
-- through an identifier that already belongs to someone; their next contact finds them here.
CREATE TABLE IF NOT EXISTS identity_held (
    key         text NOT NULL,
    customer_id uuid NOT NULL,
    PRIMARY KEY (key, customer_id)
);
