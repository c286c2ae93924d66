-- Sign-in attempts the login throttle counts, shared by every instance of the database: one row per
-- counted attempt, against an account (`community:email`, or `community:user` for a password
-- change) or a client network; swept once they leave the throttle's window.
CREATE TABLE login_attempts (
    id           TEXT PRIMARY KEY NOT NULL,
    scope        TEXT NOT NULL CHECK (scope IN ('account', 'network')),
    attempt_key  TEXT NOT NULL,
    attempted_at BIGINT NOT NULL
);
CREATE INDEX idx_login_attempts_key ON login_attempts (scope, attempt_key, attempted_at);
