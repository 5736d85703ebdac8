// Package evidence keeps truce's evidence log: an append-only Merkle tree
// over the canonical bytes of the journal's entries (docs/journal.md), in
// journal order, and the signed checkpoints that commit to it, so that
// either party, or anyone the record is released to, can check that the
// record was not altered, reordered or trimmed after the fact without
// trusting truce's operators.
//
// # Hashing
//
// The tree is the one of RFC 6962 section 2.1 (RFC 9162 section 2.1.1):
// SHA-256, a leaf hashed as SHA-256(0x00 || entry bytes), an interior node
// as SHA-256(0x01 || left || right), the empty tree as SHA-256(""). The
// package does not implement it itself: it uses golang.org/x/mod/sumdb/tlog
// (the Go checksum database's implementation) for the leaf and node hashes,
// the stored-hash layout, tree hashes, inclusion and consistency proofs and
// tiles, so that its output is checked by an independent implementation.
//
// # Numbering
//
// Leaf i (0-based, as in tlog and RFC 6962) is the journal entry with seq
// i+1. A tree of size n therefore covers exactly the journal entries with
// seq 1..n, and the log must be appended to in seq order with no gaps: the
// caller appends each committed batch of entries, in order, in the same
// durable transaction as the journal when the store supports it.
//
// Storage is a [HashStore] holding the tree's stored hashes in the layout of
// [tlog.StoredHashIndex] (at most two hashes per leaf on average). [MemStore]
// is the in-memory implementation used by tests and benchmarks.
//
// # Checkpoints
//
// A checkpoint is a C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint):
// a body of exactly three lines,
//
//	<origin>
//	<tree size, decimal>
//	<root hash, base64 standard encoding with padding>
//
// signed as a C2SP signed note (https://c2sp.org/signed-note) with an
// Ed25519 key through golang.org/x/mod/sumdb/note. The origin names the log
// and by convention is "truce.example/<agreement id>" with the deployment's
// own host name in place of truce.example, for example
// "truce.example/donbas-2026"; it must contain no white space and no '+'.
// The signing key's name is the origin ([NewKey] makes it so), and
// [VerifyCheckpoint] refuses a checkpoint whose origin differs from the
// name of the key that verified it. The verifier key, in note's text form
// ("<origin>+<hash>+<base64 key>"), is what parties pin.
//
// # Around the tree
//
// tiles.go maps tlog's tiles to C2SP tlog-tiles paths (height 8, entry
// bundles); sign.go keeps the signing key beside the database and the
// [Notary] that signs and keeps checkpoints; verify.go has the verifier's
// [Frontier] (a compact range) and [VerifyTiles]; audit.go the whole
// verification [Audit] that truce verify runs over a [Source]. The SQLite
// store writes the tree in the journal's own commits (it calls
// [StoredHashes]) and serves it as a [Tree]. docs/evidence.md is the
// user's account.
package evidence
