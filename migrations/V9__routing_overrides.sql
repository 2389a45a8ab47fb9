-- "Closed until…" and "Open until…" on a number: {"state", "until",
-- "action"?}, read by the routers with the rest of the number (the
-- numbers trigger of V5 records the change). It ends by the instant it
-- holds; nothing has to clear it.
ALTER TABLE numbers ADD COLUMN routing_override jsonb
    CONSTRAINT numbers_routing_override_shape CHECK (
        routing_override IS NULL
        OR (jsonb_typeof(routing_override) = 'object'
            AND routing_override ? 'state'
            AND routing_override ? 'until')
    );
