-- Reads gather a card's members by coalesce(root_id, id); without this index every card,
-- timeline and search result scanned the whole customers table (82 ms at 100k customers).
CREATE INDEX IF NOT EXISTS customers_root_or_self ON customers ((coalesce(root_id, id)));
