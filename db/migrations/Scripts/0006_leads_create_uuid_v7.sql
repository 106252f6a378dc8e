-- UUIDv7 for rows written set-based in SQL (events on member removal, bulk import), so every ID stays
-- time-ordered like the ones the application makes with Guid.CreateVersion7(). PostgreSQL 15 has no uuidv7().
CREATE FUNCTION leads.uuid_v7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
    SELECT encode(
        set_bit(set_bit(
            overlay(uuid_send(gen_random_uuid())
                    PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                    FROM 1 FOR 6),
            52, 1), 53, 1),
        'hex')::uuid
$$;
