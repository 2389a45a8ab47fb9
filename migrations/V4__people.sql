-- Switchboard schema, version 4: people who sign in to the console.
--
-- API keys stay for programs; people sign in with an email and a password.
-- A person belongs to one clinic with a role (as keys have), or to none: a
-- super admin, who may act on every clinic. Sessions and invitations are
-- stored by the SHA-256 of their token, so a copy of the database opens no
-- console. None of these tables carry the configuration triggers: the
-- routers never read them.
CREATE TABLE people (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- NULL: a super admin
    clinic_id     uuid REFERENCES clinics (id) ON DELETE CASCADE,
    email         text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    role          text NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    -- argon2id in the PHC string format; NULL until the invitation is accepted
    password_hash text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
-- One person per email, whatever its case.
CREATE UNIQUE INDEX people_email ON people (lower(email));
CREATE INDEX people_clinic ON people (clinic_id);

CREATE TABLE invitations (
    token_hash bytea PRIMARY KEY,
    person_id  uuid NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX invitations_person ON invitations (person_id);

CREATE TABLE sessions (
    token_hash   bytea PRIMARY KEY,
    person_id    uuid NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    -- sent back with every state-changing request of the session
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_person ON sessions (person_id);

-- Failed sign-ins by email (lower case), for the throttle; old rows are pruned.
CREATE TABLE sign_in_failures (
    email text NOT NULL,
    at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_in_failures_email ON sign_in_failures (email, at);

-- The person who made a change, beside the key.
ALTER TABLE audit_log ADD COLUMN actor_person_id uuid;
