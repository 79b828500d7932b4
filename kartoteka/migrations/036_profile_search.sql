-- Search finds a customer by the name an employee set (PATCH), as by names seen in traffic:
-- the same folded form (ё = е), Latin transliteration and full text, kept on the profile row
-- by the work projection. A profile named before this migration gets its Latin form when the
-- work read model is rebuilt or the name is set again; its Cyrillic form is searchable at once.
ALTER TABLE customer_profiles ADD COLUMN IF NOT EXISTS search_name text
    GENERATED ALWAYS AS (lower(translate(coalesce(name, ''), 'ёЁ', 'еЕ'))) STORED;
ALTER TABLE customer_profiles ADD COLUMN IF NOT EXISTS search_latin text;
ALTER TABLE customer_profiles ADD COLUMN IF NOT EXISTS search_tsv tsvector
    GENERATED ALWAYS AS (to_tsvector('russian', lower(translate(coalesce(name, ''), 'ёЁ', 'еЕ')))
                         || to_tsvector('simple', lower(translate(coalesce(name, ''), 'ёЁ', 'еЕ')))) STORED;
CREATE INDEX IF NOT EXISTS customer_profiles_search_name ON customer_profiles (search_name, customer_id)
    WHERE name IS NOT NULL;
CREATE INDEX IF NOT EXISTS customer_profiles_search_gist ON customer_profiles USING gist (search_name gist_trgm_ops)
    WHERE name IS NOT NULL;
CREATE INDEX IF NOT EXISTS customer_profiles_latin_gist ON customer_profiles USING gist (search_latin gist_trgm_ops)
    WHERE search_latin IS NOT NULL;
