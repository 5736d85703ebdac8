-- The journal: one row per entry, its canonical encoding in entry. key is
-- the entry's idempotency key (journal.Entry.Key), NULL when it has none; it
-- is not indexed: duplicates are found in memory.
CREATE TABLE journal (
	seq     INTEGER PRIMARY KEY,
	kind    TEXT    NOT NULL,
	time_us INTEGER NOT NULL,
	key     BLOB,
	entry   BLOB    NOT NULL
);

-- Projection of observation entries: the columns queries filter on. The
-- observation itself is read back from the journal entry (id = seq).
-- rel_to is the marking's rel_to organisations joined by ','.
CREATE TABLE observations (
	id          INTEGER PRIMARY KEY,
	recorded_us INTEGER NOT NULL,
	org         TEXT    NOT NULL,
	source      TEXT    NOT NULL,
	source_id   TEXT    NOT NULL,
	time_us     INTEGER NOT NULL,
	category    TEXT    NOT NULL,
	lat         REAL    NOT NULL,
	lon         REAL    NOT NULL,
	tlp         TEXT    NOT NULL,
	rel_to      TEXT    NOT NULL
);
CREATE INDEX observations_time ON observations (time_us);

-- Projection of token entries. The first entry for a hash wins.
CREATE TABLE tokens (
	hash       BLOB    PRIMARY KEY,
	seq        INTEGER NOT NULL,
	id         TEXT    NOT NULL,
	org        TEXT    NOT NULL,
	kind       TEXT    NOT NULL,
	role       TEXT    NOT NULL,
	label      TEXT    NOT NULL,
	created_us INTEGER NOT NULL
);
