-- 0025_facility_directory_notify: hubs forget what they remember of facilities and terms at once.
--
-- Each worker keeps the facilities GetAvailability asks about (owner ids, adapter, owner, the
-- fee schedule parsed) and each caller's fee side per owner tenant (hub/facility/directory.h).
-- NOTIFY rk_facility names a facility whose remembered part changed or that went (a catalogue
-- sync rewriting a row unchanged stays silent); NOTIFY rk_terms says that terms may have
-- changed: a tenant, an agreement or its versions, or an account's 在勤/在学.
CREATE TRIGGER rk_facility_notify_update AFTER UPDATE ON rk_facility
    FOR EACH ROW
    WHEN (OLD.owner_facility_id IS DISTINCT FROM NEW.owner_facility_id
          OR OLD.adapter_id IS DISTINCT FROM NEW.adapter_id
          OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id
          OR OLD.fees IS DISTINCT FROM NEW.fees)
    EXECUTE FUNCTION rk_notify_row_change('rk_facility');
CREATE TRIGGER rk_facility_notify_delete AFTER DELETE ON rk_facility
    FOR EACH ROW EXECUTE FUNCTION rk_notify_row_change('rk_facility');

CREATE FUNCTION rk_notify_terms_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('rk_terms', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER rk_tenant_notify_terms AFTER INSERT OR UPDATE OR DELETE ON rk_tenant
    FOR EACH STATEMENT EXECUTE FUNCTION rk_notify_terms_change();
CREATE TRIGGER rk_agreement_notify_terms AFTER INSERT OR UPDATE OR DELETE ON rk_agreement
    FOR EACH STATEMENT EXECUTE FUNCTION rk_notify_terms_change();
CREATE TRIGGER rk_agreement_version_notify_terms
    AFTER INSERT OR UPDATE OR DELETE ON rk_agreement_version
    FOR EACH STATEMENT EXECUTE FUNCTION rk_notify_terms_change();
CREATE TRIGGER rk_identity_account_notify_terms
    AFTER UPDATE OF tenant_id, works_in_tenant_id, studies_in_tenant_id ON rk_identity_account
    FOR EACH STATEMENT EXECUTE FUNCTION rk_notify_terms_change();
