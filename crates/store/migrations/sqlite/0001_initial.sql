-- Centroid SQLite schema, version 1.
--
-- Event sequence numbers are assigned by the store from `meta.next_seq`, not by SQLite's rowid
-- allocator: a rowid can be reused after the highest row is deleted, and a reused number at or
-- below the watermark would never be folded.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO meta (key, value) VALUES
    ('next_seq', 1),          -- next event sequence number
    ('watermark', 0),         -- states hold exactly the events with seq <= watermark
    ('generation', 0),        -- bumped by profile merges and deletions
    ('events', 0);            -- number of stored events (count(*) scans the table)

-- The event log. `seq` is the rowid, so appends go to the end of the table's B-tree.
CREATE TABLE events (
    seq          INTEGER PRIMARY KEY,
    event_id     TEXT NOT NULL UNIQUE,
    user_id      TEXT,
    anonymous_id TEXT,
    type         INTEGER NOT NULL,  -- index in EventType::ALL
    content_id   TEXT NOT NULL,
    ts           INTEGER NOT NULL,  -- event time, epoch ms
    received     INTEGER NOT NULL,  -- receive time, epoch ms
    value        REAL,
    categories   TEXT,              -- joined with U+001F (ids hold no control characters)
    session_id   TEXT,
    properties   TEXT               -- JSON object, NULL when empty
);

-- A profile's events in order: the profile is the user id, else the anonymous id.
CREATE INDEX events_actor ON events (coalesce(user_id, anonymous_id), seq);

-- One reducer state per profile (UserState::encode).
CREATE TABLE user_states (
    user_id TEXT PRIMARY KEY,
    state   BLOB NOT NULL
);

-- Anonymous ids merged into users.
CREATE TABLE identities (
    anonymous_id TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    linked_at    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX identities_user ON identities (user_id);

-- The catalogue. A deleted entry keeps a tombstone row, so that refilling the catalogue from
-- events does not bring it back; only an explicit upsert does.
CREATE TABLE content (
    content_id TEXT PRIMARY KEY,
    title      TEXT,
    categories TEXT NOT NULL,       -- JSON array of strings
    price      REAL,
    url        TEXT,
    image_url  TEXT,
    attributes TEXT,                -- JSON object, NULL when empty
    active     INTEGER NOT NULL,
    deleted    INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);

-- The few entries that must not be recommended, for a cheap full read.
CREATE INDEX content_hidden ON content (content_id) WHERE active = 0 OR deleted = 1;

-- Published models. `model` is the ModelVersion as JSON; the columns beside it are for listing.
CREATE TABLE models (
    version      INTEGER PRIMARY KEY,
    trained_at   INTEGER NOT NULL,
    published_at INTEGER NOT NULL,
    k            INTEGER NOT NULL,
    n_users      INTEGER NOT NULL,
    n_events     INTEGER NOT NULL,
    inertia      REAL NOT NULL,
    silhouette   REAL,
    converged    INTEGER NOT NULL,
    model        TEXT NOT NULL,
    view_meta    TEXT NOT NULL,     -- JSON: view parameters, mean rating, users per cluster
    has_view     INTEGER NOT NULL   -- 0 once predictions and view rows are pruned
);

CREATE TABLE predictions (
    version  INTEGER NOT NULL,
    user_id  TEXT NOT NULL,
    cluster  INTEGER NOT NULL,
    distance REAL NOT NULL,
    PRIMARY KEY (version, user_id)
) WITHOUT ROWID;

CREATE INDEX predictions_user ON predictions (user_id);

-- The cluster-content view: one row per ranked item. cluster = -1 is the global list.
CREATE TABLE view_rows (
    version    INTEGER NOT NULL,
    cluster    INTEGER NOT NULL,
    metric     TEXT NOT NULL,
    ranking    TEXT NOT NULL,       -- 'top' or 'lift'
    rank       INTEGER NOT NULL,    -- 1-based
    content_id TEXT NOT NULL,
    score      REAL NOT NULL,
    PRIMARY KEY (version, cluster, metric, ranking, rank)
) WITHOUT ROWID;
