-- Communities, people, sessions and invitations, in the shared `public` schema; each service gets its
-- own schema for its tables (created here, filled by later migrations).
-- Times are BIGINT milliseconds since the Unix epoch (UTC), the same on SQLite and PostgreSQL.

CREATE SCHEMA IF NOT EXISTS ybira;
CREATE SCHEMA IF NOT EXISTS jaci;
CREATE SCHEMA IF NOT EXISTS guara;

CREATE TABLE public.communities (
    id                  TEXT PRIMARY KEY NOT NULL,
    name                TEXT NOT NULL,
    slug                TEXT NOT NULL UNIQUE,
    settings            TEXT NOT NULL DEFAULT '{}',
    storage_quota_bytes BIGINT NOT NULL,
    storage_used_bytes  BIGINT NOT NULL DEFAULT 0,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);

CREATE TABLE public.users (
    id              TEXT PRIMARY KEY NOT NULL,
    community_id    TEXT NOT NULL REFERENCES public.communities(id) ON DELETE CASCADE,
    email           TEXT NOT NULL,
    display_name    TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'member', 'guest')),
    confirmed_at    BIGINT,
    disabled_at     BIGINT,
    last_sign_in_at BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (community_id, email)
);
CREATE INDEX idx_users_community_role ON public.users (community_id, role);
CREATE INDEX idx_users_email ON public.users (email);

CREATE TABLE public.sessions (
    id           TEXT PRIMARY KEY NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES public.users(id) ON DELETE CASCADE,
    community_id TEXT NOT NULL REFERENCES public.communities(id) ON DELETE CASCADE,
    user_agent   TEXT,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX idx_sessions_user ON public.sessions (user_id);

CREATE TABLE public.invites (
    id           TEXT PRIMARY KEY NOT NULL,
    community_id TEXT NOT NULL REFERENCES public.communities(id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'member', 'guest')),
    created_by   TEXT NOT NULL REFERENCES public.users(id) ON DELETE CASCADE,
    expires_at   BIGINT NOT NULL,
    max_uses     BIGINT NOT NULL,
    uses         BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL
);
CREATE INDEX idx_invites_community ON public.invites (community_id);

-- One row once first-run setup (or the first `taina admin community create`) has happened; its
-- primary key makes concurrent setups collide instead of creating two communities.
CREATE TABLE public.instance_setup (
    id           BIGINT PRIMARY KEY NOT NULL CHECK (id = 1),
    completed_at BIGINT NOT NULL
);
