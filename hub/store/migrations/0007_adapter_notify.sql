-- 0007_adapter_notify: hubs learn of adapter changes at once, by LISTEN/NOTIFY.
--
-- rk_notify_row_change() NOTIFYs the channel named by the trigger's first argument with the
-- changed row's id as payload; NOTIFY is transactional, so listeners hear of a change only
-- once it is committed (and identical notifications of one transaction arrive once). Any table
-- with an id column may use it for a cache kept in hub memory (hub/store/listen.h).
CREATE FUNCTION rk_notify_row_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_ARGV[0],
                      (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END)::text);
    RETURN NULL;
END
$$;

-- The adapter registry (hub/federation) keeps the active adapters by id and revision: every
-- change that matters to it adds or removes a row, raises revision or changes state. Other
-- updates (a sync's last_error) stay silent.
CREATE TRIGGER rk_adapter_notify_insert_delete AFTER INSERT OR DELETE ON rk_adapter
    FOR EACH ROW EXECUTE FUNCTION rk_notify_row_change('rk_adapter');
CREATE TRIGGER rk_adapter_notify_update AFTER UPDATE ON rk_adapter
    FOR EACH ROW
    WHEN (OLD.revision IS DISTINCT FROM NEW.revision OR OLD.state IS DISTINCT FROM NEW.state)
    EXECUTE FUNCTION rk_notify_row_change('rk_adapter');
