package evidence

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// A Tree is read access to a Merkle tree's stored hashes, at the storage
// indexes of [tlog.StoredHashIndex]: the stored hashes of a tree of n
// leaves are exactly the indexes 0..[tlog.StoredHashCount](n)-1. A tree
// only grows; what it has returned never changes. The SQLite store is one
// (it writes the hashes in the journal's own commits); [MemStore] is
// another.
type Tree interface {
	// ReadHashes returns the hashes at the given storage indexes, in the
	// order given. It is a [tlog.HashReader]. An index not yet written is
	// an error.
	ReadHashes(indexes []int64) ([]tlog.Hash, error)
	// TreeSize returns the number of leaves, which is [SizeForHashCount]
	// of the number of hashes held.
	TreeSize() int64
}

// A HashStore is a [Tree] that [Log.Append] can write to.
type HashStore interface {
	Tree
	// WriteHashes stores hashes at the storage indexes start,
	// start+1, ... in order. The log calls it once per append with
	// start = StoredHashIndex(0, n) = StoredHashCount(n) for the current
	// size n and the hashes of whole leaves, so that afterwards the store
	// holds StoredHashCount(n') hashes for the new size n'. It must write
	// all or nothing, and refuse a start other than the number of hashes
	// it holds.
	WriteHashes(start int64, hashes []tlog.Hash) error
}

// SizeForHashCount returns the number of leaves n of a tree that has
// exactly count stored hashes (count = [tlog.StoredHashCount](n)), and
// false if no tree has that count (a store cut short in the middle of a
// leaf's hashes).
func SizeForHashCount(count int64) (int64, bool) {
	if count < 0 {
		return 0, false
	}
	// StoredHashCount is increasing and StoredHashCount(n) >= n.
	lo, hi := int64(0), count
	for lo < hi {
		mid := lo + (hi-lo)/2
		if tlog.StoredHashCount(mid) < count {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, tlog.StoredHashCount(lo) == count
}

// MemStore is a [HashStore] in memory, for tests and benchmarks. It is safe
// for concurrent use.
type MemStore struct {
	mu     sync.RWMutex
	hashes []tlog.Hash
	size   int64
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore { return &MemStore{} }

// ReadHashes implements [HashStore].
func (m *MemStore) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(m.hashes)) {
			return nil, fmt.Errorf("evidence: stored hash %d not written (have %d)", x, len(m.hashes))
		}
		out[i] = m.hashes[x]
	}
	return out, nil
}

// WriteHashes implements [HashStore].
func (m *MemStore) WriteHashes(start int64, hashes []tlog.Hash) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if start != int64(len(m.hashes)) {
		return fmt.Errorf("evidence: write of stored hashes at %d, but %d are stored", start, len(m.hashes))
	}
	size, ok := SizeForHashCount(start + int64(len(hashes)))
	if !ok {
		return fmt.Errorf("evidence: write of %d stored hashes at %d does not end on a leaf", len(hashes), start)
	}
	m.hashes = append(m.hashes, hashes...)
	m.size = size
	return nil
}

// Reset empties the store, for a tree computed again from the start.
func (m *MemStore) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hashes, m.size = nil, 0
}

// TreeSize implements [Tree].
func (m *MemStore) TreeSize() int64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.size
}

// Log is the append-only Merkle log over the canonical bytes of the
// journal's entries, in journal order: leaf i is the entry with seq i+1.
// It is safe for concurrent use; appends are serialised.
type Log struct {
	mu sync.RWMutex
	hs Tree
}

// New returns the log kept in t, at the size t holds. Append needs t to be
// a [HashStore]; a tree that another component appends to (the SQLite
// store, in the journal's commits) serves proofs, tiles and checkpoints
// only.
func New(t Tree) *Log { return &Log{hs: t} }

// Append adds the canonical bytes of journal entries, in seq order: the
// first becomes leaf Size(), that is the entry with seq Size()+1. The
// leaves are added all or none.
func (l *Log) Append(entries [][]byte) error {
	leaves := make([]tlog.Hash, len(entries))
	for i, e := range entries {
		leaves[i] = tlog.RecordHash(e)
	}
	return l.AppendLeafHashes(leaves)
}

// AppendLeafHashes is [Log.Append] given the leaves' hashes
// ([tlog.RecordHash] of the entries' bytes) rather than the bytes, as a
// verifier has them for entries it may not read.
func (l *Log) AppendLeafHashes(leaves []tlog.Hash) error {
	if len(leaves) == 0 {
		return nil
	}
	hs, ok := l.hs.(HashStore)
	if !ok {
		return errors.New("evidence: append: the log's tree is read-only here")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	n := hs.TreeSize()
	pending, err := StoredHashes(n, leaves, hs)
	if err != nil {
		return err
	}
	if err := hs.WriteHashes(tlog.StoredHashIndex(0, n), pending); err != nil {
		return fmt.Errorf("evidence: appending leaves %d..%d: %w", n, n+int64(len(leaves))-1, err)
	}
	if got, want := hs.TreeSize(), n+int64(len(leaves)); got != want {
		return fmt.Errorf("evidence: store holds %d leaves after appending up to %d", got, want)
	}
	return nil
}

// StoredHashes returns the stored hashes to write, from storage index
// [tlog.StoredHashIndex](0, n) on, to grow a tree of n leaves by the
// given leaf hashes; r reads the tree's existing stored hashes (only those
// on its right edge are read). It is how a store appends to the tree in
// its own transaction.
func StoredHashes(n int64, leaves []tlog.Hash, r tlog.HashReader) ([]tlog.Hash, error) {
	if n < 0 {
		return nil, fmt.Errorf("evidence: tree of %d leaves", n)
	}
	// The roots of the old tree's complete subtrees (its right edge), one
	// per set bit of n: the only old hashes new nodes combine with.
	var frontier [64]tlog.Hash
	var idx []int64
	var levels []int
	for l := 0; l < 63; l++ {
		if n>>l&1 == 1 {
			idx = append(idx, tlog.StoredHashIndex(l, n>>l-1))
			levels = append(levels, l)
		}
	}
	if len(idx) > 0 {
		old, err := r.ReadHashes(idx)
		if err != nil {
			return nil, fmt.Errorf("evidence: reading the tree's right edge: %w", err)
		}
		if len(old) != len(idx) {
			return nil, fmt.Errorf("evidence: store returned %d hashes for %d indexes", len(old), len(idx))
		}
		for i, l := range levels {
			frontier[l] = old[i]
		}
	}
	// Leaf x's stored hashes are its own, then one per level at which it
	// completes a subtree (tlog.StoredHashIndex's layout).
	out := make([]tlog.Hash, 0, 2*len(leaves)+64)
	for i, h := range leaves {
		x := n + int64(i)
		out = append(out, h)
		l := 0
		for ; x>>l&1 == 1; l++ {
			h = tlog.NodeHash(frontier[l], h)
			out = append(out, h)
		}
		frontier[l] = h
	}
	return out, nil
}

// Size returns the number of leaves, which is the seq of the last entry
// logged.
func (l *Log) Size() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.hs.TreeSize()
}

// Root returns the root hash of the whole tree (RFC 6962's for the empty
// tree when there are no leaves).
func (l *Log) Root() (tlog.Hash, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return tlog.TreeHash(l.hs.TreeSize(), l.hs)
}

// RootAt returns the root hash of the tree of the first size leaves, for
// 0 <= size <= Size().
func (l *Log) RootAt(size int64) (tlog.Hash, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if size < 0 || size > l.hs.TreeSize() {
		return tlog.Hash{}, fmt.Errorf("evidence: no tree of size %d (log has %d leaves)", size, l.hs.TreeSize())
	}
	return tlog.TreeHash(size, l.hs)
}

// InclusionProof returns the proof that leaf index is in the tree of size
// leaves, for 0 <= index < size <= Size(). It is checked with
// [tlog.CheckRecord].
func (l *Log) InclusionProof(index, size int64) (tlog.RecordProof, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if index < 0 || index >= size || size > l.hs.TreeSize() {
		return nil, fmt.Errorf("evidence: no leaf %d in a tree of size %d (log has %d leaves)", index, size, l.hs.TreeSize())
	}
	return tlog.ProveRecord(size, index, l.hs)
}

// ConsistencyProof returns the proof that the tree of oldSize leaves is a
// prefix of the tree of newSize leaves, for 1 <= oldSize <= newSize <=
// Size(). It is checked with [tlog.CheckTree].
func (l *Log) ConsistencyProof(oldSize, newSize int64) (tlog.TreeProof, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if oldSize < 1 || oldSize > newSize || newSize > l.hs.TreeSize() {
		return nil, fmt.Errorf("evidence: no consistency proof from size %d to %d (log has %d leaves)", oldSize, newSize, l.hs.TreeSize())
	}
	return tlog.ProveTree(newSize, oldSize, l.hs)
}

// ReadTile returns the data of the hash tile t (t.L >= 0), a concatenation
// of hashes as C2SP tlog-tiles serves them, if the tree holds all of it.
// Data tiles (t.L == -1) are the entries themselves and not kept here.
func (l *Log) ReadTile(t tlog.Tile) ([]byte, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	n := l.hs.TreeSize()
	if t.H < 1 || t.H > 30 || t.L < 0 || t.N < 0 || t.W < 1 || t.W > 1<<t.H {
		return nil, fmt.Errorf("evidence: invalid hash tile %+v", t)
	}
	avail := n >> (t.L * t.H) // hashes at the tile's bottom level
	full := avail >> t.H      // complete tiles at its level
	if t.N > full || t.N == full && int64(t.W) > avail-full<<t.H {
		return nil, fmt.Errorf("evidence: tile %s is not in the tree of size %d", t.Path(), n)
	}
	return tlog.ReadTileData(t, l.hs)
}

// checkOrigin reports whether origin can be a checkpoint origin and a note
// key name: non-empty valid UTF-8 with no white space and no '+'.
func checkOrigin(origin string) error {
	if origin == "" || strings.ContainsFunc(origin, unicode.IsSpace) || strings.Contains(origin, "+") || !utf8.ValidString(origin) {
		return fmt.Errorf("evidence: invalid origin %q: must be non-empty, with no white space and no '+'", origin)
	}
	return nil
}

// NewKey generates an Ed25519 signing key named origin, returning the
// signer key (secret; kept with the database) and the verifier key (public;
// what parties pin), in golang.org/x/mod/sumdb/note's text form.
func NewKey(rand io.Reader, origin string) (signerKey, verifierKey string, err error) {
	if err := checkOrigin(origin); err != nil {
		return "", "", err
	}
	return note.GenerateKey(rand, origin)
}

// Checkpoint returns the signed checkpoint of the whole tree: the C2SP
// tlog-checkpoint body "<origin>\n<size>\n<base64 root>\n" signed by
// signer as a C2SP signed note. The signer's key name must be origin.
func (l *Log) Checkpoint(origin string, signer note.Signer) ([]byte, error) {
	return l.checkpointAt(l.Size(), origin, signer)
}

// checkpointAt signs the checkpoint of the tree of the first size leaves.
func (l *Log) checkpointAt(size int64, origin string, signer note.Signer) ([]byte, error) {
	if err := checkOrigin(origin); err != nil {
		return nil, err
	}
	if signer.Name() != origin {
		return nil, fmt.Errorf("evidence: signing key is named %q, not the origin %q", signer.Name(), origin)
	}
	root, err := l.RootAt(size)
	if err != nil {
		return nil, err
	}
	return note.Sign(&note.Note{Text: FormatCheckpoint(origin, size, root)}, signer)
}

// FormatCheckpoint returns the C2SP tlog-checkpoint body for a tree.
func FormatCheckpoint(origin string, size int64, root tlog.Hash) string {
	return origin + "\n" + strconv.FormatInt(size, 10) + "\n" + base64.StdEncoding.EncodeToString(root[:]) + "\n"
}

// VerifyCheckpoint checks that msg is a checkpoint signed with verifier's
// key and returns what it states. The origin must be the key's name. Lines
// after the third (C2SP extension lines) are allowed and ignored; truce
// writes none.
func VerifyCheckpoint(msg []byte, verifier note.Verifier) (origin string, size int64, root tlog.Hash, err error) {
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		var unknown *note.UnverifiedNoteError
		if errors.As(err, &unknown) {
			return "", 0, tlog.Hash{}, fmt.Errorf("evidence: checkpoint is not signed by key %s", verifier.Name())
		}
		return "", 0, tlog.Hash{}, fmt.Errorf("evidence: checkpoint signature does not verify with key %s: %w", verifier.Name(), err)
	}
	lines := strings.SplitAfter(n.Text, "\n")
	if len(lines) < 4 || lines[len(lines)-1] != "" {
		return "", 0, tlog.Hash{}, errors.New("evidence: malformed checkpoint: fewer than three lines")
	}
	origin = strings.TrimSuffix(lines[0], "\n")
	sizeText := strings.TrimSuffix(lines[1], "\n")
	rootText := strings.TrimSuffix(lines[2], "\n")
	if origin != verifier.Name() {
		return "", 0, tlog.Hash{}, fmt.Errorf("evidence: checkpoint origin %q is not the key's name %q", origin, verifier.Name())
	}
	size, err = strconv.ParseInt(sizeText, 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != sizeText {
		return "", 0, tlog.Hash{}, fmt.Errorf("evidence: malformed checkpoint size %q", sizeText)
	}
	b, err := base64.StdEncoding.Strict().DecodeString(rootText)
	if err != nil || len(b) != tlog.HashSize {
		return "", 0, tlog.Hash{}, fmt.Errorf("evidence: malformed checkpoint root hash %q", rootText)
	}
	copy(root[:], b)
	for _, ext := range lines[3 : len(lines)-1] {
		if ext == "\n" {
			return "", 0, tlog.Hash{}, errors.New("evidence: malformed checkpoint: empty extension line")
		}
	}
	return origin, size, root, nil
}
