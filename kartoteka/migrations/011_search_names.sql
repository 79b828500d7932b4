-- Name search over distinct names. Customers share names (a common name is borne by
-- hundreds at 1M customers), so the trigram KNN over customers walked through every
-- namesake before reaching the next name: 50-60 ms of PostgreSQL CPU per name search.
-- Scoring distinct names, then expanding each to its customers by btree, costs the same
-- for a common name as for a rare one.
--
-- No unique key on purpose: two projections inserting the same new names in different
-- orders would wait on each other's uncommitted key (a deadlock). A race leaves a duplicate
-- row, which the search folds away.
--
-- Writers wait for the migration (seconds at 1M customers: the backfill and one btree), so
-- no customer is added between the backfill and the triggers that take over from it.
LOCK TABLE customers IN SHARE ROW EXCLUSIVE MODE;
CREATE TABLE IF NOT EXISTS customer_names (
    search_name  text NOT NULL,
    search_latin text,
    search_tsv   tsvector GENERATED ALWAYS AS
        (to_tsvector('russian', search_name) || to_tsvector('simple', search_name)) STORED
);
INSERT INTO customer_names (search_name, search_latin)
    SELECT DISTINCT search_name, search_latin FROM customers WHERE search_name <> '';
CREATE INDEX IF NOT EXISTS customer_names_name ON customer_names (search_name);
CREATE INDEX IF NOT EXISTS customer_names_name_gist ON customer_names USING gist (search_name gist_trgm_ops);
CREATE INDEX IF NOT EXISTS customer_names_latin_gist ON customer_names USING gist (search_latin gist_trgm_ops);
ANALYZE customer_names;

-- A name's customers, already in the order results are ranked in among equal scores.
CREATE INDEX IF NOT EXISTS customers_name_root ON customers (search_name, (coalesce(root_id, id)));

-- Kept in step by the database, whichever writer (projection, bulk load) adds or renames a
-- customer. A rename leaves the old name behind: it matches no customer, so finds no one.
CREATE OR REPLACE FUNCTION customer_names_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO customer_names (search_name, search_latin)
    SELECT DISTINCT n.search_name, n.search_latin FROM added n
    WHERE n.search_name <> '' AND NOT EXISTS (
        SELECT FROM customer_names k
        WHERE k.search_name = n.search_name AND k.search_latin IS NOT DISTINCT FROM n.search_latin);
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS customers_names_added ON customers;
CREATE TRIGGER customers_names_added AFTER INSERT ON customers
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION customer_names_add();

-- Row level with WHEN: the many updates that only move name_at cost no function call.
CREATE OR REPLACE FUNCTION customer_names_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO customer_names (search_name, search_latin)
    SELECT NEW.search_name, NEW.search_latin WHERE NOT EXISTS (
        SELECT FROM customer_names k
        WHERE k.search_name = NEW.search_name AND k.search_latin IS NOT DISTINCT FROM NEW.search_latin);
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS customers_names_renamed ON customers;
CREATE TRIGGER customers_names_renamed AFTER UPDATE OF name, search_latin ON customers
    FOR EACH ROW WHEN (NEW.search_name <> '' AND (OLD.search_name IS DISTINCT FROM NEW.search_name
                       OR OLD.search_latin IS DISTINCT FROM NEW.search_latin))
    EXECUTE FUNCTION customer_names_renamed();

-- The trigram and full-text indexes on customers served only the name search, and every
-- new or renamed customer paid for them (GiST inserts were most of the customers load).
DROP INDEX IF EXISTS customers_search_name_gist;
DROP INDEX IF EXISTS customers_search_latin_gist;
DROP INDEX IF EXISTS customers_search_trgm;
DROP INDEX IF EXISTS customers_search_latin_trgm;
DROP INDEX IF EXISTS customers_search_tsv;
