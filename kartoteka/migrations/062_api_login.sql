-- Issue 17: the api logs in as kartoteka_api_login, a member of the read-only kartoteka_api and
-- of nothing else. Connected as the owner and SET ROLE kartoteka_api (as before), a session can
-- RESET ROLE back to the owner, a writer of the audit tables; this login cannot, because it is
-- not a member of the owner. Skipped with a notice where the migrating user lacks CREATEROLE
-- (the api then falls back to SET ROLE). Passwords: none is set here (the embedded server
-- trusts local connections); elsewhere ALTER ROLE ... PASSWORD and KARTOTEKA_API_DB_PASSWORD.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kartoteka_api')
       AND NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kartoteka_api_login') THEN
        BEGIN
            CREATE ROLE kartoteka_api_login LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE
                NOREPLICATION NOBYPASSRLS INHERIT IN ROLE kartoteka_api;
        EXCEPTION
            WHEN insufficient_privilege THEN
                RAISE NOTICE 'cannot create role kartoteka_api_login: %', SQLERRM;
            WHEN duplicate_object THEN
                NULL;  -- another database of the cluster migrated at the same time
        END;
    END IF;
END $$;
