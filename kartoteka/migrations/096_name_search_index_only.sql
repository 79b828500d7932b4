-- A name's customers in root order, answered from the index alone: the name search takes the
-- first few of each matching name (services/api/queries/customers.py). With the index on the
-- expression only, PostgreSQL cannot scan it index-only (it needs root_id and id themselves),
-- so each name visited every namesake's heap row: at 1M customers a common name is borne by
-- ~1,300, and a search touching 50 such names took 1-3 s (bench/README.md).
CREATE INDEX IF NOT EXISTS customers_name_root_ios ON customers (search_name, (coalesce(root_id, id)))
    INCLUDE (root_id, id);
DROP INDEX IF EXISTS customers_name_root;
