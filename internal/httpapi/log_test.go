package httpapi

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/goccy/go-json"
	"github.com/truce-dev/truce/internal/evidence"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/store/sqlite"
	"github.com/truce-dev/truce/internal/truce"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func b64hash(t *testing.T, s string) tlog.Hash {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != tlog.HashSize {
		t.Fatalf("hash %q: %v", s, err)
	}
	return tlog.Hash(b)
}

// The log routes, checked with golang.org/x/mod/sumdb/note and tlog (Go's
// own implementations): the checkpoint's signature, the root recomputed
// from the leaves (content where the caller may see it, hashes where not),
// inclusion and consistency proofs, and C2SP tiles; markings hold.
func TestLogRoutes(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.token(t, "coalition", truce.OrgCoalition, truce.RoleAdmin)
	var obs []truce.Observation
	for i := range 300 {
		m := truce.Marking{TLP: truce.TLPClear}
		if i%3 == 1 {
			m = truce.Marking{TLP: truce.TLPAmber}
		}
		obs = append(obs, fixture("log", fmt.Sprint(i), m))
	}
	e.appendObservations(t, "GBR", obs...)
	size := e.s.cfg.Store.TreeSize() // 300 observations and the admin token
	if size != 301 {
		t.Fatalf("tree size %d, want 301", size)
	}
	verifier := e.s.cfg.Notary.Key().Verifier

	resp, body := e.do(t, request{method: "GET", path: "/api/v1/log/checkpoint"})
	if resp.StatusCode != 200 {
		t.Fatalf("checkpoint: %d %s", resp.StatusCode, body)
	}
	n, err := note.Open(body, note.VerifierList(verifier))
	if err != nil {
		t.Fatalf("note.Open: %v", err)
	}
	if want := fmt.Sprintf("truce.test/log\n%d\n", size); n.Text[:len(want)] != want {
		t.Fatalf("checkpoint text %q, want it to begin %q", n.Text, want)
	}
	_, cpSize, root, err := evidence.VerifyCheckpoint(body, verifier)
	if err != nil || cpSize != size {
		t.Fatalf("checkpoint: size %d, %v", cpSize, err)
	}
	// The checkpoint was kept.
	kept := 0
	e.db.Checkpoints(t.Context(), func(s int64, nb []byte) error {
		if s == size && bytes.Equal(nb, body) {
			kept++
		}
		return nil
	})
	if kept != 1 {
		t.Errorf("the served checkpoint is not kept")
	}

	// The public recomputes the root from content and hashes.
	for _, who := range []struct {
		name, token string
		hidden      int
	}{{"public", "", 101}, {"admin", admin, 0}} { // 100 AMBER, and the admin's own token (TLP:RED to others)
		var leaves []tlog.Hash
		hidden := 0
		for start := int64(0); start < size; start += maxLogEntries {
			resp, body := e.do(t, request{method: "GET", path: fmt.Sprintf("/api/v1/log/entries?start=%d", start), token: who.token})
			if resp.StatusCode != 200 {
				t.Fatalf("%s: entries: %d %s", who.name, resp.StatusCode, body)
			}
			var page logEntries
			if err := json.Unmarshal(body, &page); err != nil {
				t.Fatal(err)
			}
			for _, le := range page.Entries {
				h := b64hash(t, le.LeafHash)
				if le.Entry == nil {
					hidden++
				} else if got := tlog.RecordHash(le.Entry); got != h {
					t.Errorf("%s: leaf %d: content hashes to %s, leaf_hash %s", who.name, le.Index, got, h)
				}
				if le.Index != int64(len(leaves)) {
					t.Fatalf("%s: leaf %d out of order", who.name, le.Index)
				}
				leaves = append(leaves, h)
			}
		}
		if hidden != who.hidden {
			t.Errorf("%s: %d entries hidden, want %d", who.name, hidden, who.hidden)
		}
		var f evidence.Frontier
		for _, h := range leaves {
			f.Append(h)
		}
		if f.Root() != root {
			t.Errorf("%s: root from the leaves %s, checkpoint %s", who.name, f.Root(), root)
		}
	}

	// Inclusion by index and by hash; consistency.
	var p proof
	for _, q := range []string{"index=77", ""} {
		if q == "" {
			q = "hash=" + url.QueryEscape(p.LeafHash)
		}
		resp, body = e.do(t, request{method: "GET", path: "/api/v1/log/proof/inclusion?" + q})
		if resp.StatusCode != 200 {
			t.Fatalf("inclusion %s: %d %s", q, resp.StatusCode, body)
		}
		p = proof{}
		json.Unmarshal(body, &p)
		var rp tlog.RecordProof
		for _, s := range p.Proof {
			rp = append(rp, b64hash(t, s))
		}
		if p.Index == nil || *p.Index != 77 {
			t.Fatalf("inclusion %s: index %v", q, p.Index)
		}
		if err := tlog.CheckRecord(rp, size, root, 77, b64hash(t, p.LeafHash)); err != nil {
			t.Errorf("inclusion %s: tlog.CheckRecord: %v", q, err)
		}
	}
	resp, body = e.do(t, request{method: "GET", path: "/api/v1/log/proof/consistency?from=100&to=" + fmt.Sprint(size)})
	if resp.StatusCode != 200 {
		t.Fatalf("consistency: %d %s", resp.StatusCode, body)
	}
	json.Unmarshal(body, &p)
	var tp tlog.TreeProof
	for _, s := range p.Proof {
		tp = append(tp, b64hash(t, s))
	}
	old, err := evidence.New(e.db).RootAt(100)
	if err != nil {
		t.Fatal(err)
	}
	if err := tlog.CheckTree(tp, size, root, 100, old); err != nil {
		t.Errorf("consistency: tlog.CheckTree: %v", err)
	}

	// Tiles: a hash tile is the leaves' hashes; an entry bundle is served
	// to who may see all of it.
	resp, body = e.do(t, request{method: "GET", path: "/api/v1/log/tile/0/000"})
	if resp.StatusCode != 200 || len(body) != 256*tlog.HashSize {
		t.Fatalf("tile 0/000: %d, %d bytes", resp.StatusCode, len(body))
	}
	th, err := tlog.HashFromTile(tlog.Tile{H: 8, L: 0, N: 0, W: 256}, body, tlog.StoredHashIndex(0, 77))
	if err != nil || th != b64hash(t, leafHashOf(t, e, 77)) {
		t.Errorf("tile 0/000: leaf 77 %s, %v", th, err)
	}
	for _, c := range []struct {
		path, token string
		status      int
	}{
		{"/api/v1/log/tile/0/001.p/45", "", 200},
		{"/api/v1/log/tile/0/001.p/46", "", 404},
		{"/api/v1/log/tile/1/000.p/1", "", 200},
		{"/api/v1/log/tile/entries/000", admin, 200},
		{"/api/v1/log/tile/entries/000", "", 403},
		{"/api/v1/log/tile/0/0", "", 400},
		{"/api/v1/log/tile/entries/x072/x057/x594/x037/x927/936", admin, 404}, // 2^56 << 8 overflows
	} {
		resp, body := e.do(t, request{method: "GET", path: c.path, token: c.token})
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d %s, want %d", c.path, resp.StatusCode, body, c.status)
		}
		if c.path == "/api/v1/log/tile/entries/000" && resp.StatusCode == 200 {
			es, err := evidence.ParseBundle(body)
			if err != nil || len(es) != 256 {
				t.Fatalf("bundle: %d entries, %v", len(es), err)
			}
			tile := mustTile(t, e)
			for i, raw := range es {
				lh, _ := tlog.HashFromTile(tlog.Tile{H: 8, L: 0, N: 0, W: 256}, tile, tlog.StoredHashIndex(0, int64(i)))
				if tlog.RecordHash(raw) != lh {
					t.Errorf("bundle entry %d does not hash to its leaf", i)
				}
			}
		}
	}
	if resp, _ := e.do(t, request{method: "GET", path: "/api/v1/log/checkpoint", token: "truce_nope"}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("checkpoint with a bad token: %d, want 401", resp.StatusCode)
	}
}

func mustTile(t *testing.T, e *testEnv) []byte {
	resp, body := e.do(t, request{method: "GET", path: "/api/v1/log/tile/0/000"})
	if resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	return body
}

func leafHashOf(t *testing.T, e *testEnv, i int64) string {
	hs, err := e.db.ReadHashes([]int64{tlog.StoredHashIndex(0, i)})
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(hs[0][:])
}

// Entries another process journals (truce ingest --db beside truce serve)
// are in the next checkpoint, though this server committed nothing since.
func TestCheckpointCoversOtherProcess(t *testing.T) {
	e := newEnv(t, nil)
	before := e.s.cfg.Store.TreeSize()
	other, err := sqlite.Open(t.Context(), e.path, sqlite.Options{Now: testClock})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Append(t.Context(), []journal.Entry{{Kind: journal.KindObservation, Org: "GBR", Observation: ptr(fixture("other", "1", truce.Marking{TLP: truce.TLPClear}))}}); err != nil {
		t.Fatal(err)
	}
	other.Close()
	resp, body := e.do(t, request{method: "GET", path: "/api/v1/log/checkpoint"})
	if resp.StatusCode != 200 {
		t.Fatalf("checkpoint: %d %s", resp.StatusCode, body)
	}
	_, size, _, err := evidence.VerifyCheckpoint(body, e.s.cfg.Notary.Key().Verifier)
	if err != nil || size != before+1 {
		t.Errorf("checkpoint size %d, %v; want %d", size, err, before+1)
	}
}

func ptr[T any](v T) *T { return &v }
