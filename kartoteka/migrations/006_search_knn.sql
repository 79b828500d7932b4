-- Top-k name search by trigram distance (GiST KNN): the GIN similarity filter returned
-- thousands of candidates for common names (600 ms at 100k customers).
CREATE INDEX IF NOT EXISTS customers_search_name_gist ON customers USING gist (search_name gist_trgm_ops);
CREATE INDEX IF NOT EXISTS customers_search_latin_gist ON customers USING gist (search_latin gist_trgm_ops);
