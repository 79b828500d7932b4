-- Cross-script name search: a Latin transliteration written by the card projection
-- (events/names.py), so "Irina Petrova" finds "Ирина Петрова" and back.
ALTER TABLE customers ADD COLUMN IF NOT EXISTS search_latin text;
CREATE INDEX IF NOT EXISTS customers_search_latin_trgm ON customers USING gin (search_latin gin_trgm_ops);
