-- Presence across instances. Each running instance beats a heartbeat into `instances`; `presence`
-- holds, per person, their status on each instance where they have a connection. A person's
-- presence is the best over live instances; when an instance's heartbeat stops, its rows go and
-- its people's presence is recomputed (taina_guara::presence).
CREATE TABLE instances (
    id TEXT PRIMARY KEY,
    started_at BIGINT NOT NULL,
    seen_at BIGINT NOT NULL
);
CREATE TABLE presence (
    user_id TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    status TEXT NOT NULL,
    PRIMARY KEY (user_id, instance_id)
);
CREATE INDEX presence_by_instance ON presence (instance_id);
