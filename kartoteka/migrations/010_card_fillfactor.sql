-- Every interaction moves its customer's name_at and its identifiers' last_seen. With full
-- pages each such update was a new row version in every index of the table (the card has
-- trigram GIN and GiST indexes: most of the card projection's database time); free room
-- on the page lets PostgreSQL update in place (HOT) when no indexed column changes.
-- New pages only: a rebuild (TRUNCATE) or VACUUM FULL applies it to existing rows.
ALTER TABLE customers SET (fillfactor = 50);
ALTER TABLE customer_identifiers SET (fillfactor = 70);
