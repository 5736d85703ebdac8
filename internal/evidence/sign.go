package evidence

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"

	"golang.org/x/mod/sumdb/note"
)

// Key is the log's signing key pair, in golang.org/x/mod/sumdb/note's text
// forms. Its name is the log's origin.
type Key struct {
	Signer   note.Signer
	Verifier note.Verifier
	// VerifierKey is the public key parties pin
	// ("<origin>+<hash>+<base64 key>"), what `truce log key` prints.
	VerifierKey string
}

// Origin returns the log's origin, the keys' name.
func (k *Key) Origin() string { return k.Signer.Name() }

// KeyPath is where the signing key of the database at dbPath is kept:
// beside it, so that it goes with the database, but in a file of its own,
// so that a copy of the database handed to a verifier does not carry it.
func KeyPath(dbPath string) string { return dbPath + ".key" }

// LoadOrCreateKey reads the key kept at path or, when there is none,
// makes one named origin (from rand) and writes it there, readable by the
// owner only. An existing key named other than origin is an error unless
// origin is "" (any name). The file holds two lines: the signer key
// (secret) and the verifier key (public).
func LoadOrCreateKey(path, origin string, rand io.Reader) (*Key, error) {
	k, err := LoadKey(path)
	if err == nil {
		if origin != "" && k.Origin() != origin {
			return nil, fmt.Errorf("evidence: the key in %s signs for origin %q, not %q (an origin never changes once a log has one)", path, k.Origin(), origin)
		}
		return k, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if origin == "" {
		return nil, fmt.Errorf("evidence: no key at %s, and no origin to make one", path)
	}
	skey, vkey, err := NewKey(rand, origin)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadOrCreateKey(path, origin, rand) // another process made it first
	}
	if err != nil {
		return nil, fmt.Errorf("evidence: make key: %w", err)
	}
	_, werr := fmt.Fprintf(f, "%s\n%s\n", skey, vkey)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path)
		return nil, fmt.Errorf("evidence: make key: %w", werr)
	}
	return LoadKey(path)
}

// LoadKey reads the key kept at path (see LoadOrCreateKey).
func LoadKey(path string) (*Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("evidence: read key: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 {
		return nil, fmt.Errorf("evidence: %s: want two lines (signer key, verifier key), found %d", path, len(lines))
	}
	s, err := note.NewSigner(strings.TrimSpace(lines[0]))
	if err != nil {
		return nil, fmt.Errorf("evidence: %s: line 1: signer key: %w", path, err)
	}
	vkey := strings.TrimSpace(lines[1])
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("evidence: %s: line 2: verifier key: %w", path, err)
	}
	if v.Name() != s.Name() || v.KeyHash() != s.KeyHash() {
		return nil, fmt.Errorf("evidence: %s: the verifier key is not the signer key's", path)
	}
	if err := checkOrigin(s.Name()); err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	// The pair must match: a signature by the one verifies with the other.
	probe, err := note.Sign(&note.Note{Text: "key check\n"}, s)
	if err == nil {
		_, err = note.Open(probe, note.VerifierList(v))
	}
	if err != nil {
		return nil, fmt.Errorf("evidence: %s: the signer and verifier keys do not match: %v", path, err)
	}
	return &Key{Signer: s, Verifier: v, VerifierKey: vkey}, nil
}

// Keeper keeps signed checkpoints: a store.Evidence.
type Keeper interface {
	SaveCheckpoint(ctx context.Context, size int64, note []byte) error
}

// Notary signs the log's checkpoints and keeps each one it signs, so that
// what was published can be checked later (truce verify --db). It signs a
// new checkpoint only when the tree has grown since its last. It is safe
// for concurrent use.
type Notary struct {
	log  *Log
	key  *Key
	keep Keeper

	mu   sync.Mutex
	size int64 // of the last checkpoint, -1 before the first
	last []byte
}

// NewNotary returns a notary signing l's checkpoints with key and keeping
// them in keep.
func NewNotary(l *Log, key *Key, keep Keeper) *Notary {
	return &Notary{log: l, key: key, keep: keep, size: -1}
}

// Key returns the notary's key.
func (n *Notary) Key() *Key { return n.key }

// Checkpoint returns a signed checkpoint of the whole tree as it is now,
// kept before it is returned, and its size.
func (n *Notary) Checkpoint(ctx context.Context) ([]byte, int64, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	size := n.log.Size()
	if size == n.size {
		return n.last, n.size, nil
	}
	cp, err := n.log.checkpointAt(size, n.key.Origin(), n.key.Signer)
	if err != nil {
		return nil, 0, err
	}
	if err := n.keep.SaveCheckpoint(ctx, size, cp); err != nil {
		return nil, 0, fmt.Errorf("evidence: keep checkpoint of size %d: %w", size, err)
	}
	n.size, n.last = size, cp
	return cp, size, nil
}

// Summary is what a report or an export says of the checkpoint it was made
// at: enough to find it and check it.
type Summary struct {
	Origin string
	Size   int64
	Root   string // base64, as in the checkpoint
	Note   string // the whole signed note
}

// Summarize states a signed checkpoint, without checking its signature.
func Summarize(cp []byte) (Summary, error) {
	text, _, ok := bytes.Cut(cp, []byte("\n\n"))
	lines := strings.Split(string(text), "\n")
	if !ok || len(lines) < 3 {
		return Summary{}, errors.New("evidence: malformed checkpoint")
	}
	var size int64
	if _, err := fmt.Sscan(lines[1], &size); err != nil {
		return Summary{}, fmt.Errorf("evidence: malformed checkpoint size %q", lines[1])
	}
	return Summary{Origin: lines[0], Size: size, Root: lines[2], Note: string(cp)}, nil
}
