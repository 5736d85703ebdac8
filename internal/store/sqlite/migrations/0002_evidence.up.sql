-- The evidence log (internal/evidence): the stored hashes of the Merkle
-- tree over the journal's entries, in the storage layout of
-- golang.org/x/mod/sumdb/tlog (StoredHashIndex), written in the journal's
-- own commits. One row per commit: start is the storage index of its first
-- hash, hashes the concatenation of its 32-byte hashes. A projection of the
-- journal: Rebuild recomputes it.
CREATE TABLE log_hashes (
	start  INTEGER PRIMARY KEY,
	hashes BLOB    NOT NULL
);

-- Checkpoints signed over the tree (C2SP signed notes), as signed. Not a
-- projection: what was published stays what it was.
CREATE TABLE log_checkpoints (
	size      INTEGER PRIMARY KEY,
	signed_us INTEGER NOT NULL,
	note      BLOB    NOT NULL
);
