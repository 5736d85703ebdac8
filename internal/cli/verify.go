package cli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/truce-dev/truce/internal/evidence"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/server"
	"github.com/truce-dev/truce/internal/store/sqlite"
)

func logCommand() *command {
	return &command{
		name:    "log",
		summary: "the evidence log",
		subs: []*command{{
			name:    "key",
			summary: "print the verifier key of the evidence log, which parties pin (truce verify --key)",
			flags:   logKey,
		}, {
			name:    "checkpoint",
			summary: "sign, keep and print a checkpoint of the evidence log as it stands (truce serve signs them when asked; this is for a database at rest)",
			flags:   logCheckpoint,
		}},
	}
}

func logKey(flags *flag.FlagSet) func(context.Context, *stdio, []string) error {
	db := flags.String("db", defaultDB, "SQLite `file` whose log's key to print (the key is kept beside it, in FILE.key)")
	return func(_ context.Context, s *stdio, args []string) error {
		if len(args) > 0 {
			return usagef("log key takes no arguments")
		}
		k, err := evidence.LoadKey(evidence.KeyPath(*db))
		if errors.Is(err, fs.ErrNotExist) {
			return invalidError{fmt.Errorf("%s: no signing key (truce serve --db %s makes one on first start)", evidence.KeyPath(*db), *db)}
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(s.out, k.VerifierKey)
		return nil
	}
}

func logCheckpoint(flags *flag.FlagSet) func(context.Context, *stdio, []string) error {
	db := flags.String("db", defaultDB, "SQLite `file` whose log to sign (the key is kept beside it, in FILE.key, and made if missing)")
	origin := flags.String("origin", "", "`name` of the log, for a key made now (default: the existing key's, else truce.local/journal)")
	return func(ctx context.Context, s *stdio, args []string) error {
		if len(args) > 0 {
			return usagef("log checkpoint takes no arguments")
		}
		st, err := openStore(ctx, *db, false)
		if err != nil {
			return err
		}
		defer st.Close()
		n, err := server.Notary(st, *db, *origin, "truce.local/journal")
		if err != nil {
			return err
		}
		cp, _, err := n.Checkpoint(ctx)
		if err != nil {
			return err
		}
		s.out.Write(cp)
		return nil
	}
}

func verifyCommand() *command {
	return &command{
		name:    "verify",
		summary: "prove that the record was not altered, reordered or trimmed: check the signed checkpoint, its consistency with the last one seen, and the root recomputed from every entry",
		flags:   verify,
	}
}

func verify(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
	server := fs.String("server", "", "`URL` of a truce server to verify")
	db := fs.String("db", "", "SQLite `file` to verify offline (opened read-only)")
	keyFlag := fs.String("key", "", "the log's verifier `key` (as truce log key prints it), or a file holding it; default: the one in --state, else, with --db, the one kept beside the database")
	stateDir := fs.String("state", "", "`directory` keeping the last checkpoint verified (and the key first seen): each run must find the log grown from it, never forked or shrunk")
	token := fs.String("token", "", "bearer `token` for --server (default $TRUCE_TOKEN; without one the server shows the public's view: entries it may not see are checked by their hashes)")
	return func(ctx context.Context, s *stdio, args []string) error {
		if len(args) > 0 {
			return usagef("verify takes no arguments")
		}
		if (*server == "") == (*db == "") {
			return usagef("verify needs exactly one of --server and --db")
		}
		var state *verifyState
		if *stateDir != "" {
			var err error
			if state, err = loadVerifyState(*stateDir); err != nil {
				return err
			}
		}
		vkey, err := verifierKey(*keyFlag, state, *db, s)
		if err != nil {
			return err
		}
		v, err := note.NewVerifier(vkey)
		if err != nil {
			return invalidError{fmt.Errorf("--key: %v", err)}
		}
		if state != nil && state.key != "" && state.key != vkey {
			return invalidError{fmt.Errorf("the key %q is not the one this state directory first saw (%q): a log's key never changes", vkey, state.key)}
		}
		a := &evidence.Audit{Verifier: v, Check: checkEntry}
		if state != nil {
			a.Seen = state.checkpoint
		}
		var src evidence.Source
		var where string
		if *server != "" {
			tok := *token
			if tok == "" {
				tok = os.Getenv("TRUCE_TOKEN")
			}
			src = &httpSource{base: strings.TrimRight(*server, "/"), token: tok, client: &http.Client{Timeout: time.Minute}}
			where = *server
		} else {
			if _, err := os.Stat(*db); err != nil {
				return invalidError{fmt.Errorf("%s: %w", *db, err)}
			}
			st, err := sqlite.Open(ctx, *db, sqlite.Options{Now: time.Now, ReadOnly: true})
			if err != nil {
				return err
			}
			defer st.Close()
			dbs := &dbSource{db: st}
			if err := st.Checkpoints(ctx, func(_ int64, n []byte) error {
				dbs.kept = append(dbs.kept, append([]byte(nil), n...))
				return nil
			}); err != nil {
				return err
			}
			if len(dbs.kept) == 0 {
				return fmt.Errorf("%s: no checkpoint was ever signed over this database (truce serve signs one when asked, and truce report with each report)", *db)
			}
			a.Also = dbs.kept[:len(dbs.kept)-1]
			src, where = dbs, *db
		}
		res, err := a.Run(ctx, src)
		if err != nil {
			return err
		}
		if len(res.Problems) > 0 {
			fmt.Fprintf(s.err, "truce verify: %s does NOT verify:\n", where)
			for _, p := range res.Problems {
				fmt.Fprintf(s.err, "  - %s\n", p)
			}
			return fmt.Errorf("%s: %d finding(s) above: the record cannot be trusted as it stands", where, len(res.Problems))
		}
		fmt.Fprintf(s.out, "verified: %s\n  checkpoint: %d entries, root %s\n  entries read and hashed: %d; taken by their leaf hash (not visible to this caller): %d\n",
			where, res.Size, res.Root, res.Read, res.Hashed)
		if state != nil {
			if err := state.save(vkey, res.Checkpoint); err != nil {
				return err
			}
			fmt.Fprintf(s.out, "  state: %s holds this checkpoint now\n", *stateDir)
		}
		return nil
	}
}

// checkEntry checks that leaf index holds a canonical journal entry with
// seq index+1 (entries out of order, or altered bytes, show here).
func checkEntry(index int64, raw []byte) error {
	e, err := journal.Decode(raw)
	if err != nil {
		return fmt.Errorf("not a canonical journal entry: %v", err)
	}
	if e.Seq != uint64(index+1) {
		return fmt.Errorf("holds entry %d: entries are out of order", e.Seq)
	}
	return nil
}

// verifierKey finds the key to verify with.
func verifierKey(flagKey string, state *verifyState, db string, s *stdio) (string, error) {
	switch {
	case flagKey != "":
		if _, err := note.NewVerifier(flagKey); err == nil {
			return flagKey, nil
		}
		b, err := os.ReadFile(flagKey)
		if err != nil {
			return "", invalidError{fmt.Errorf("--key: neither a verifier key nor a readable file: %v", err)}
		}
		return strings.TrimSpace(string(b)), nil
	case state != nil && state.key != "":
		return state.key, nil
	case db != "":
		k, err := evidence.LoadKey(evidence.KeyPath(db))
		if err != nil {
			return "", invalidError{fmt.Errorf("no --key, and none kept beside the database: %v", err)}
		}
		fmt.Fprintf(s.err, "truce verify: trusting the key kept beside the database (%s); pin the key with --key or --state to guard against its replacement\n", k.VerifierKey)
		return k.VerifierKey, nil
	}
	return "", usagef("--server needs --key (truce log key prints it) or a --state directory that has one")
}

// verifyState is what truce verify keeps between runs.
type verifyState struct {
	dir        string
	key        string
	checkpoint []byte
}

func loadVerifyState(dir string) (*verifyState, error) {
	st := &verifyState{dir: dir}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if b, err := os.ReadFile(filepath.Join(dir, "key")); err == nil {
		st.key = strings.TrimSpace(string(b))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if b, err := os.ReadFile(filepath.Join(dir, "checkpoint")); err == nil {
		st.checkpoint = b
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return st, nil
}

// save keeps the key and the checkpoint verified, each written atomically.
func (st *verifyState) save(key string, cp []byte) error {
	for name, data := range map[string][]byte{"key": []byte(key + "\n"), "checkpoint": cp} {
		tmp := filepath.Join(st.dir, name+".tmp")
		if err := os.WriteFile(tmp, data, 0o600); err != nil {
			return err
		}
		if err := os.Rename(tmp, filepath.Join(st.dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// dbSource reads a database file.
type dbSource struct {
	db   *sqlite.DB
	kept [][]byte // checkpoints kept, in size order
}

func (d *dbSource) Checkpoint(context.Context) ([]byte, error) { return d.kept[len(d.kept)-1], nil }

func (d *dbSource) Leaves(ctx context.Context, start, end int64, fn func(int64, []byte, *tlog.Hash) error) error {
	if end <= start {
		return nil
	}
	tree := d.db.TreeSize()
	next := start
	err := d.db.RawEntries(ctx, uint64(start), int(end-start), func(seq uint64, raw []byte) error {
		if int64(seq) != next+1 {
			return &evidence.ShortError{Msg: fmt.Sprintf("journal entry %d is missing: the row after entry %d is %d", next+1, next, seq)}
		}
		var leaf *tlog.Hash
		if next < tree {
			hs, err := d.db.ReadHashes([]int64{tlog.StoredHashIndex(0, next)})
			if err != nil {
				return err
			}
			leaf = &hs[0]
		}
		next++
		return fn(next-1, raw, leaf)
	})
	return err
}

func (d *dbSource) ConsistencyProof(_ context.Context, from, to int64) (tlog.TreeProof, error) {
	// Offline, the verifier recomputes every root itself (Audit checks the
	// seen root against the entries); the stored tree's proof is checked
	// too when it reaches that far (a live server may have signed past
	// the tree read at open).
	if to > d.db.TreeSize() {
		return nil, fmt.Errorf("the stored tree (%d leaves when opened) does not reach %d; the roots are recomputed from the entries instead", d.db.TreeSize(), to)
	}
	return evidence.New(d.db).ConsistencyProof(from, to)
}

// httpSource reads a truce server's log routes.
type httpSource struct {
	base, token string
	client      *http.Client
}

func (h *httpSource) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.base+path, nil)
	if err != nil {
		return nil, err
	}
	if h.token != "" {
		req.Header.Set("Authorization", "Bearer "+h.token)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", path, resp.Status, strings.TrimSpace(string(b)))
	}
	return b, nil
}

func (h *httpSource) Checkpoint(ctx context.Context) ([]byte, error) {
	return h.get(ctx, "/api/v1/log/checkpoint")
}

func (h *httpSource) Leaves(ctx context.Context, start, end int64, fn func(int64, []byte, *tlog.Hash) error) error {
	for start < end {
		b, err := h.get(ctx, fmt.Sprintf("/api/v1/log/entries?start=%d&end=%d", start, end))
		if err != nil {
			return err
		}
		var page struct {
			Entries []struct {
				Index    int64           `json:"index"`
				LeafHash string          `json:"leaf_hash"`
				Entry    json.RawMessage `json:"entry"`
			} `json:"entries"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			return fmt.Errorf("log entries from %d: %v", start, err)
		}
		if len(page.Entries) == 0 {
			return &evidence.ShortError{Msg: fmt.Sprintf("the server lists no leaf from %d", start)}
		}
		for _, e := range page.Entries {
			raw, err := base64.StdEncoding.DecodeString(e.LeafHash)
			if err != nil || len(raw) != tlog.HashSize {
				return fmt.Errorf("log entries: leaf %d: malformed leaf_hash %q", e.Index, e.LeafHash)
			}
			leaf := tlog.Hash(raw)
			var entry []byte
			if len(e.Entry) > 0 {
				entry = e.Entry
			}
			if err := fn(e.Index, entry, &leaf); err != nil {
				return err
			}
			start = e.Index + 1
		}
	}
	return nil
}

func (h *httpSource) ConsistencyProof(ctx context.Context, from, to int64) (tlog.TreeProof, error) {
	b, err := h.get(ctx, "/api/v1/log/proof/consistency?"+url.Values{"from": {fmt.Sprint(from)}, "to": {fmt.Sprint(to)}}.Encode())
	if err != nil {
		return nil, err
	}
	var p struct {
		Proof []string `json:"proof"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, err
	}
	var out tlog.TreeProof
	for _, s := range p.Proof {
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(raw) != tlog.HashSize {
			return nil, fmt.Errorf("consistency proof: malformed hash %q", s)
		}
		out = append(out, tlog.Hash(raw))
	}
	return out, nil
}
