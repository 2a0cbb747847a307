-- The office's first schema. Everything the dashboard reads is derived at ingest from the
-- journal lines (kept verbatim, redacted), so a later migration can always rebuild it.

CREATE TABLE kits (
    id           serial PRIMARY KEY,
    name         text NOT NULL UNIQUE,
    team         text NOT NULL DEFAULT '',
    -- 'kit' sends; 'coordinator' reads the city.
    role         text NOT NULL CHECK (role IN ('kit', 'coordinator')),
    -- SHA-256 of the token: the token itself is shown once and never stored.
    token_sha256 bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    last_sync    timestamptz,
    status       jsonb
);

-- Every journal line a kit sent, as the kit wrote it (without face descriptors).
CREATE TABLE journal (
    kit         integer NOT NULL REFERENCES kits (id),
    school      text NOT NULL,
    seq         bigint NOT NULL,
    at          timestamptz,
    event       text NOT NULL,
    line        text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kit, school, seq)
);

-- One row per (kit, school): what the replayed journal says, counted.
CREATE TABLE schools (
    kit          integer NOT NULL REFERENCES kits (id),
    school       text NOT NULL,
    through      bigint NOT NULL DEFAULT 0,
    students     integer NOT NULL DEFAULT 0,
    photographed integer NOT NULL DEFAULT 0,
    retake       integer NOT NULL DEFAULT 0,
    absent       integer NOT NULL DEFAULT 0,
    to_come      integer NOT NULL DEFAULT 0,
    no_photo     integer NOT NULL DEFAULT 0,
    frames       integer NOT NULL DEFAULT 0,
    shooting_days date[] NOT NULL DEFAULT '{}',
    completed_on date,
    last_line_at timestamptz,
    synced_at    timestamptz,
    PRIMARY KEY (kit, school)
);

-- Every student of every roster, as the replayed journal says.
CREATE TABLE students (
    kit       integer NOT NULL,
    school    text NOT NULL,
    key       text NOT NULL,
    class     text NOT NULL,
    row       integer NOT NULL,
    name      text NOT NULL,
    -- The checked ID number; NULL while the roster row has an error.
    id_number text,
    id_masked text NOT NULL,
    standing  text NOT NULL,
    PRIMARY KEY (kit, school, key),
    FOREIGN KEY (kit, school) REFERENCES schools (kit, school)
);
-- Finding a student by ID (duplicates): the kit and school too, so a place is one lookup.
CREATE INDEX students_id_number ON students (id_number, kit, school) WHERE id_number IS NOT NULL;
CREATE INDEX students_problems ON students (kit, school) WHERE id_number IS NULL;
CREATE INDEX students_make_up ON students (kit, school)
    WHERE standing IN ('waiting', 'failed', 'absent', 'processing');

-- ID numbers on more than one school's roster (kept up to date at ingest).
CREATE TABLE duplicates (
    id_number text NOT NULL,
    kit       integer NOT NULL,
    school    text NOT NULL,
    PRIMARY KEY (id_number, kit, school)
);

-- The kits' submission ledgers.
CREATE TABLE submissions (
    kit          integer NOT NULL REFERENCES kits (id),
    school       text NOT NULL,
    date         date NOT NULL,
    zip          text NOT NULL,
    sha256       text NOT NULL,
    content_hash text NOT NULL,
    files        integer NOT NULL,
    complete     boolean NOT NULL,
    PRIMARY KEY (kit, sha256)
);
CREATE INDEX submissions_school ON submissions (kit, school, date DESC);

-- Packs uploaded (optional): the zip as submitted, checked against its SHA-256.
CREATE TABLE packs (
    sha256      text PRIMARY KEY,
    kit         integer NOT NULL REFERENCES kits (id),
    bytes       bytea NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
