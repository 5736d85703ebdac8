package evidence

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// A Source is a log as a verifier reads it: from a server over HTTP, or
// from a database file offline.
type Source interface {
	// Checkpoint returns the signed checkpoint to verify (the newest).
	Checkpoint(ctx context.Context) ([]byte, error)
	// Leaves calls fn for leaves start, start+1, ... below end, in order:
	// the entry's bytes where the verifier may read them (else nil), and
	// the leaf hash the log holds for it where it has one (else nil). A
	// source that has fewer leaves stops early; the audit says so.
	Leaves(ctx context.Context, start, end int64, fn func(index int64, entry []byte, leaf *tlog.Hash) error) error
	// ConsistencyProof proves the tree of from leaves a prefix of the tree
	// of to leaves.
	ConsistencyProof(ctx context.Context, from, to int64) (tlog.TreeProof, error)
}

// Audit is one verification of a log.
type Audit struct {
	Verifier note.Verifier
	// Seen is the checkpoint this verifier saw last (its state), nil for
	// none: the log must have grown from it, never forked or shrunk.
	Seen []byte
	// Also are more checkpoints the log signed (those a database keeps):
	// each must hold of the entries too.
	Also [][]byte
	// Check, when set, checks each readable entry's bytes (for instance
	// that entry i decodes canonically with seq i+1).
	Check func(index int64, entry []byte) error
}

// Result is what an audit found.
type Result struct {
	Checkpoint []byte // the checkpoint verified
	Size       int64
	Root       tlog.Hash
	Read       int64    // leaves whose entries were read and hashed
	Hashed     int64    // leaves taken by their hash (entries the verifier may not read)
	Problems   []string // what does not hold, each with where; none when the log verified
}

// maxProblems bounds the problems an audit lists.
const maxProblems = 20

// Run fetches the source's checkpoint, checks its signature, checks it
// against the checkpoint seen before (consistency proof, and the
// verifier's own recomputation), and recomputes the root from every leaf:
// from the entry where it is readable, from the log's leaf hash where not.
// An error is returned only when the audit could not be carried out;
// what does not hold of the log is in Result.Problems.
func (a *Audit) Run(ctx context.Context, src Source) (*Result, error) {
	cp, err := src.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	res := &Result{Checkpoint: cp}
	problem := func(format string, args ...any) {
		if len(res.Problems) < maxProblems {
			res.Problems = append(res.Problems, fmt.Sprintf(format, args...))
		} else if len(res.Problems) == maxProblems {
			res.Problems = append(res.Problems, "more problems not listed")
		}
	}
	_, size, root, err := VerifyCheckpoint(cp, a.Verifier)
	if err != nil {
		problem("the checkpoint does not verify: %v", err)
		return res, nil
	}
	res.Size, res.Root = size, root

	// Roots the entries must produce at given sizes.
	type want struct {
		size int64
		root tlog.Hash
		what string
	}
	wants := []want{{size, root, fmt.Sprintf("the checkpoint of size %d", size)}}
	if a.Seen != nil {
		_, seenSize, seenRoot, err := VerifyCheckpoint(a.Seen, a.Verifier)
		switch {
		case err != nil:
			return nil, fmt.Errorf("evidence: the checkpoint seen before does not verify: %w", err)
		case seenSize > size:
			problem("the log shrank: the checkpoint has %d leaves, but one of %d was seen before: entries %d to %d were removed", size, seenSize, size+1, seenSize)
		case seenSize == size && seenRoot != root:
			problem("fork: the checkpoint of size %d has root %s, but the one seen before at that size has root %s", size, root, seenRoot)
		case seenSize > 0 && seenSize < size:
			proof, err := src.ConsistencyProof(ctx, seenSize, size)
			if err != nil {
				problem("no consistency proof from the size seen before (%d) to %d: %v", seenSize, size, err)
			} else if err := tlog.CheckTree(proof, size, root, seenSize, seenRoot); err != nil {
				problem("fork: the checkpoint of size %d is not consistent with the one of size %d seen before (%v)", size, seenSize, err)
			}
		}
		if seenSize <= size {
			wants = append(wants, want{seenSize, seenRoot, fmt.Sprintf("the checkpoint of size %d seen before", seenSize)})
		}
	}
	for i, also := range a.Also {
		_, s, r, err := VerifyCheckpoint(also, a.Verifier)
		if err != nil {
			problem("kept checkpoint %d does not verify: %v", i+1, err)
			continue
		}
		if s > size {
			problem("a checkpoint of size %d was signed, but the newest covers only %d leaves: entries %d to %d were removed", s, size, size+1, s)
			continue
		}
		wants = append(wants, want{s, r, fmt.Sprintf("the kept checkpoint of size %d", s)})
	}
	slices.SortStableFunc(wants, func(x, y want) int { return cmp.Compare(x.size, y.size) })

	var f Frontier
	next := 0
	checkWants := func() {
		for next < len(wants) && wants[next].size == f.Size() {
			if got := f.Root(); got != wants[next].root {
				problem("the first %d entries hash to root %s, but %s says %s: the record was altered", f.Size(), got, wants[next].what, wants[next].root)
			}
			next++
		}
	}
	checkWants()
	err = src.Leaves(ctx, 0, size, func(index int64, entry []byte, leaf *tlog.Hash) error {
		if index != f.Size() {
			return fmt.Errorf("evidence: source gave leaf %d after %d leaves", index, f.Size())
		}
		var h tlog.Hash
		switch {
		case entry != nil:
			h = tlog.RecordHash(entry)
			res.Read++
			if leaf != nil && *leaf != h {
				problem("entry %d (leaf %d) hashes to %s, but the log's leaf is %s: the entry was changed after it was logged", index+1, index, h, *leaf)
			}
			if a.Check != nil {
				if err := a.Check(index, entry); err != nil {
					problem("entry %d (leaf %d): %v", index+1, index, err)
				}
			}
		case leaf != nil:
			h = *leaf
			res.Hashed++
		default:
			return fmt.Errorf("evidence: source gave neither entry nor hash for leaf %d", index)
		}
		f.Append(h)
		checkWants()
		return ctx.Err()
	})
	if err != nil {
		var short *ShortError
		if !errors.As(err, &short) {
			return nil, err
		}
		problem("%v", short)
	}
	if f.Size() < size {
		problem("the log holds %d entries, but the checkpoint covers %d: entries %d to %d are missing", f.Size(), size, f.Size()+1, size)
	}
	return res, nil
}

// ShortError is what a Source returns when its leaves stop short of what
// was asked: a gap or an end in the journal.
type ShortError struct {
	Msg string
}

func (e *ShortError) Error() string { return e.Msg }
