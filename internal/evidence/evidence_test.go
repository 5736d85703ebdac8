package evidence

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const origin = "truce.example/test-agreement"

// entries returns n pseudo-random journal-like entries; entry i has seq i+1.
func entries(seed uint64, n int) [][]byte {
	r := mrand.New(mrand.NewPCG(seed, 1))
	out := make([][]byte, n)
	for i := range out {
		pad := make([]byte, r.IntN(64))
		for j := range pad {
			pad[j] = 'a' + byte(r.IntN(26))
		}
		out[i] = fmt.Appendf(nil, `{"kind":"observation","org":"coalition","seq":%d,"text":"%s"}`, i+1, pad)
	}
	return out
}

// memReader is a hash reader independent of this package: it holds the
// stored hashes computed by tlog.StoredHashes alone.
type memReader []tlog.Hash

func (m memReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x >= int64(len(m)) {
			return nil, fmt.Errorf("index %d not stored", x)
		}
		out[i] = m[x]
	}
	return out, nil
}

func independentHashes(t testing.TB, es [][]byte) memReader {
	var m memReader
	for i, e := range es {
		h, err := tlog.StoredHashes(int64(i), e, m)
		if err != nil {
			t.Fatal(err)
		}
		m = append(m, h...)
	}
	return m
}

// Direct RFC 6962 section 2.1 hashing with crypto/sha256 only.
func leaf6962(e []byte) [32]byte { return sha256.Sum256(append([]byte{0}, e...)) }
func node6962(l, r [32]byte) [32]byte {
	return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
}

func mth6962(es [][]byte) [32]byte {
	switch len(es) {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return leaf6962(es[0])
	}
	k := 1
	for k*2 < len(es) {
		k *= 2
	}
	return node6962(mth6962(es[:k]), mth6962(es[k:]))
}

// build appends es in random batches, checking the root after each batch.
func build(t testing.TB, es [][]byte, seed uint64) *Log {
	l := New(NewMemStore())
	r := mrand.New(mrand.NewPCG(seed, 2))
	for i := 0; i < len(es); {
		j := min(len(es), i+1+r.IntN(17))
		if err := l.Append(es[i:j]); err != nil {
			t.Fatal(err)
		}
		i = j
		if l.Size() != int64(i) {
			t.Fatalf("Size = %d after appending %d", l.Size(), i)
		}
	}
	return l
}

func TestRootInterop(t *testing.T) {
	const N = 300
	es := entries(1, N)
	l := build(t, es, 1)
	ref := independentHashes(t, es)
	if int64(len(ref)) != tlog.StoredHashCount(N) {
		t.Fatalf("reference has %d hashes", len(ref))
	}
	for n := int64(0); n <= N; n++ {
		got, err := l.RootAt(n)
		if err != nil {
			t.Fatal(err)
		}
		want, err := tlog.TreeHash(n, ref)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("size %d: root %v, tlog.TreeHash %v", n, got, want)
		}
		if got != tlog.Hash(mth6962(es[:n])) {
			t.Fatalf("size %d: root %v differs from direct RFC 6962 MTH", n, got)
		}
	}
	root, err := l.Root()
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := tlog.TreeHash(N, ref); root != want {
		t.Fatalf("Root %v, want %v", root, want)
	}
	// The stored hashes themselves match tlog's layout.
	got, err := l.hs.ReadHashes(seq(int64(len(ref))))
	if err != nil {
		t.Fatal(err)
	}
	for i := range ref {
		if got[i] != ref[i] {
			t.Fatalf("stored hash %d differs", i)
		}
	}
}

func seq(n int64) []int64 {
	s := make([]int64, n)
	for i := range s {
		s[i] = int64(i)
	}
	return s
}

func TestRootByHand(t *testing.T) {
	a, b, c := []byte("a"), []byte(`{"seq":2}`), []byte{}
	h := func(p ...[]byte) tlog.Hash { return sha256.Sum256(bytes.Join(p, nil)) }
	la, lb, lc := h([]byte{0}, a), h([]byte{0}, b), h([]byte{0}, c)
	want := []tlog.Hash{
		h(),                        // empty
		la,                         // 1 leaf
		h([]byte{1}, la[:], lb[:]), // 2 leaves
	}
	ab := want[2]
	want = append(want, h([]byte{1}, ab[:], lc[:])) // 3 leaves: ((a b) c)
	l := New(NewMemStore())
	for n, e := range [][]byte{nil, a, b, c} {
		if n > 0 {
			if err := l.Append([][]byte{e}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := l.Root()
		if err != nil {
			t.Fatal(err)
		}
		if got != want[n] {
			t.Errorf("%d leaves: root %x, want %x", n, got, want[n])
		}
	}
	if want[0] != tlog.Hash(sha256.Sum256(nil)) {
		t.Fatal("empty root is not SHA-256 of nothing")
	}
}

func TestAppendLeafHashesMatchesAppend(t *testing.T) {
	es := entries(3, 100)
	a := build(t, es, 3)
	b := New(NewMemStore())
	var hs []tlog.Hash
	for _, e := range es {
		hs = append(hs, tlog.RecordHash(e))
	}
	if err := b.AppendLeafHashes(hs[:37]); err != nil {
		t.Fatal(err)
	}
	if err := b.AppendLeafHashes(hs[37:]); err != nil {
		t.Fatal(err)
	}
	ra, _ := a.Root()
	rb, _ := b.Root()
	if ra != rb {
		t.Fatal("roots differ")
	}
}

func TestInclusionProofs(t *testing.T) {
	const N = 200
	es := entries(4, N)
	l := build(t, es, 4)
	roots := make([]tlog.Hash, N+1)
	for n := range roots {
		roots[n], _ = l.RootAt(int64(n))
	}
	for n := int64(1); n <= N; n++ {
		for i := int64(0); i < n; i++ {
			p, err := l.InclusionProof(i, n)
			if err != nil {
				t.Fatal(err)
			}
			leaf := tlog.RecordHash(es[i])
			if err := tlog.CheckRecord(p, n, roots[n], i, leaf); err != nil {
				t.Fatalf("proof of %d in %d: %v", i, n, err)
			}
			bad := bytes.Clone(es[i])
			bad[len(bad)/2] ^= 1
			if tlog.CheckRecord(p, n, roots[n], i, tlog.RecordHash(bad)) == nil {
				t.Fatalf("proof of %d in %d accepts a tampered leaf", i, n)
			}
			if n < N && tlog.CheckRecord(p, n+1, roots[n+1], i, leaf) == nil {
				t.Fatalf("proof of %d in %d accepted for size %d", i, n, n+1)
			}
			if j := i ^ 1; j < n && tlog.CheckRecord(p, n, roots[n], j, leaf) == nil {
				t.Fatalf("proof of %d in %d accepted for another index", i, n)
			}
		}
	}
	for _, c := range [][2]int64{{-1, 5}, {5, 5}, {0, N + 1}, {0, 0}} {
		if _, err := l.InclusionProof(c[0], c[1]); err == nil {
			t.Errorf("InclusionProof(%d, %d) succeeded", c[0], c[1])
		}
	}
}

func TestConsistencyProofs(t *testing.T) {
	const N = 150
	es := entries(5, N)
	l := build(t, es, 5)
	// A fork: the same log with entry seq 40 changed.
	forked := append([][]byte(nil), es...)
	forked[39] = []byte(`{"kind":"observation","seq":40,"text":"rewritten"}`)
	f := build(t, forked, 6)
	for m := int64(1); m <= N; m++ {
		rm, _ := l.RootAt(m)
		fm, _ := f.RootAt(m)
		for n := m; n <= N; n++ {
			p, err := l.ConsistencyProof(m, n)
			if err != nil {
				t.Fatal(err)
			}
			rn, _ := l.RootAt(n)
			if err := tlog.CheckTree(p, n, rn, m, rm); err != nil {
				t.Fatalf("consistency %d -> %d: %v", m, n, err)
			}
			if m >= 40 && tlog.CheckTree(p, n, rn, m, fm) == nil {
				t.Fatalf("consistency %d -> %d accepts a forked old root", m, n)
			}
			if n >= 40 {
				fp, _ := f.ConsistencyProof(m, n)
				fn, _ := f.RootAt(n)
				if m < 40 && tlog.CheckTree(fp, n, fn, m, rm) != nil {
					t.Fatalf("fork after %d: consistency %d -> %d should hold", 39, m, n)
				}
				if tlog.CheckTree(fp, n, fn, m, rm) == nil && m >= 40 {
					t.Fatalf("forked log proves consistency with honest root %d -> %d", m, n)
				}
			}
			if n < N && m < n {
				rn1, _ := l.RootAt(n + 1)
				if tlog.CheckTree(p, n+1, rn1, m, rm) == nil {
					t.Fatalf("consistency %d -> %d accepted for size %d", m, n, n+1)
				}
			}
		}
	}
	for _, c := range [][2]int64{{0, 5}, {6, 5}, {1, N + 1}} {
		if _, err := l.ConsistencyProof(c[0], c[1]); err == nil {
			t.Errorf("ConsistencyProof(%d, %d) succeeded", c[0], c[1])
		}
	}
}

var bodyRE = regexp.MustCompile(`^([^\n]+)\n(0|[1-9][0-9]*)\n([A-Za-z0-9+/]{43}=)\n$`)

func TestCheckpoint(t *testing.T) {
	skey, vkey, err := NewKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(vkey, origin+"+") {
		t.Fatalf("verifier key %q not named by origin", vkey)
	}
	es := entries(7, 57)
	l := build(t, es, 7)
	root, _ := l.Root()
	msg, err := l.Checkpoint(origin, signer)
	if err != nil {
		t.Fatal(err)
	}

	// Independently of VerifyCheckpoint: note.Open and the C2SP body.
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		t.Fatalf("note.Open: %v", err)
	}
	want := origin + "\n57\n" + base64.StdEncoding.EncodeToString(root[:]) + "\n"
	if n.Text != want {
		t.Fatalf("body %q, want %q", n.Text, want)
	}
	m := bodyRE.FindStringSubmatch(n.Text)
	if m == nil || m[1] != origin || m[2] != "57" || strings.Count(n.Text, "\n") != 3 {
		t.Fatalf("body %q is not a three-line C2SP checkpoint", n.Text)
	}
	if tlog.Hash(mth6962(es)) != root {
		t.Fatal("checkpoint root is not the RFC 6962 root")
	}
	if len(n.Sigs) != 1 || n.Sigs[0].Name != origin {
		t.Fatalf("signatures %+v", n.Sigs)
	}
	// The signed note: body, blank line, "— <name> <base64 sig>".
	if !bytes.HasPrefix(msg, []byte(want+"\n\u2014 "+origin+" ")) {
		t.Fatalf("signed note layout: %q", msg)
	}

	o, size, r, err := VerifyCheckpoint(msg, verifier)
	if err != nil || o != origin || size != 57 || r != root {
		t.Fatalf("VerifyCheckpoint = %q %d %v %v", o, size, r, err)
	}

	// A modified body fails.
	bad := bytes.Replace(msg, []byte("\n57\n"), []byte("\n56\n"), 1)
	if _, err := note.Open(bad, note.VerifierList(verifier)); err == nil {
		t.Fatal("note.Open accepts a modified body")
	}
	if _, _, _, err := VerifyCheckpoint(bad, verifier); err == nil {
		t.Fatal("VerifyCheckpoint accepts a modified body")
	}
	// A different key of the same name fails.
	_, vkey2, _ := NewKey(rand.Reader, origin)
	verifier2, _ := note.NewVerifier(vkey2)
	if _, err := note.Open(msg, note.VerifierList(verifier2)); err == nil {
		t.Fatal("note.Open accepts another key")
	}
	if _, _, _, err := VerifyCheckpoint(msg, verifier2); err == nil {
		t.Fatal("VerifyCheckpoint accepts another key")
	}

	// A fork: same size, one entry changed, signed with the same key. Its
	// signature verifies, so the fork shows as a different root at the
	// same size, and no consistency proof links it to the honest tree.
	forked := append([][]byte(nil), es...)
	forked[10] = append(bytes.Clone(es[10]), ' ')
	f := build(t, forked, 8)
	fmsg, err := f.Checkpoint(origin, signer)
	if err != nil {
		t.Fatal(err)
	}
	_, fsize, froot, err := VerifyCheckpoint(fmsg, verifier)
	if err != nil {
		t.Fatal(err)
	}
	if fsize != size || froot == root {
		t.Fatalf("fork not visible: size %d root %v", fsize, froot)
	}
	if err := f.Append(entries(9, 20)); err != nil {
		t.Fatal(err)
	}
	fmsg2, _ := f.Checkpoint(origin, signer)
	_, fsize2, froot2, err := VerifyCheckpoint(fmsg2, verifier)
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.ConsistencyProof(size, fsize2)
	if err != nil {
		t.Fatal(err)
	}
	if tlog.CheckTree(p, fsize2, froot2, size, root) == nil {
		t.Fatal("a forked log proved consistent with the honest checkpoint")
	}
}

func TestCheckpointRefusals(t *testing.T) {
	skey, vkey, _ := NewKey(rand.Reader, origin)
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)
	l := New(NewMemStore())
	for _, o := range []string{"", "a b", "a+b", "a\nb"} {
		if _, _, err := NewKey(rand.Reader, o); err == nil {
			t.Errorf("NewKey(%q) succeeded", o)
		}
		if _, err := l.Checkpoint(o, signer); err == nil {
			t.Errorf("Checkpoint(%q) succeeded", o)
		}
	}
	if _, err := l.Checkpoint("truce.example/other", signer); err == nil {
		t.Error("Checkpoint with a key of another name succeeded")
	}
	// Empty log: size 0, root SHA-256("").
	msg, err := l.Checkpoint(origin, signer)
	if err != nil {
		t.Fatal(err)
	}
	if _, size, root, err := VerifyCheckpoint(msg, verifier); err != nil || size != 0 || root != tlog.Hash(sha256.Sum256(nil)) {
		t.Fatalf("empty checkpoint: %d %v %v", size, root, err)
	}
	// Well-signed but malformed bodies.
	root := base64.StdEncoding.EncodeToString(make([]byte, 32))
	for _, body := range []string{
		origin + "\n1\n",
		origin + "\n01\n" + root + "\n",
		origin + "\n-1\n" + root + "\n",
		origin + "\n1\n" + root[:40] + "\n",
		origin + "\n1\n" + base64.RawStdEncoding.EncodeToString(make([]byte, 32)) + "\n",
		"truce.example/other\n1\n" + root + "\n",
		origin + "\n1\n" + root + "\n\n",
	} {
		msg, err := note.Sign(&note.Note{Text: body}, signer)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := VerifyCheckpoint(msg, verifier); err == nil {
			t.Errorf("VerifyCheckpoint accepts body %q", body)
		}
	}
	// An extension line is allowed.
	msg, _ = note.Sign(&note.Note{Text: origin + "\n1\n" + root + "\next\n"}, signer)
	if _, size, _, err := VerifyCheckpoint(msg, verifier); err != nil || size != 1 {
		t.Errorf("extension line: %d %v", size, err)
	}
}

// tileReader serves a Log's tiles to tlog.TileHashReader.
type tileReader struct {
	h int
	l *Log
}

func (r tileReader) Height() int { return r.h }
func (r tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		d, err := r.l.ReadTile(t)
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}
func (tileReader) SaveTiles([]tlog.Tile, [][]byte) {}

func TestTiles(t *testing.T) {
	const N = 300
	es := entries(10, N)
	l := build(t, es, 10)
	root, _ := l.Root()
	for _, h := range []int{1, 2, 3, 8} {
		r := tlog.TileHashReader(tlog.Tree{N: N, Hash: root}, tileReader{h, l})
		got, err := tlog.TreeHash(N, r)
		if err != nil || got != root {
			t.Fatalf("h=%d: tree hash from tiles %v %v", h, got, err)
		}
		for _, i := range []int64{0, 1, 127, 255, 256, 299} {
			p, err := tlog.ProveRecord(N, i, r)
			if err != nil {
				t.Fatal(err)
			}
			if err := tlog.CheckRecord(p, N, root, i, tlog.RecordHash(es[i])); err != nil {
				t.Fatalf("h=%d: proof of %d from tiles: %v", h, i, err)
			}
		}
		for _, tile := range tlog.NewTiles(h, 0, N) {
			if _, err := l.ReadTile(tile); err != nil {
				t.Fatalf("h=%d: ReadTile(%s): %v", h, tile.Path(), err)
			}
		}
		// Tiles beyond the tree are refused.
		past := tlog.TileForIndex(h, tlog.StoredHashIndex(0, N))
		past.W++
		if _, err := l.ReadTile(past); err == nil {
			t.Errorf("h=%d: ReadTile(%s) beyond size %d succeeded", h, past.Path(), N)
		}
	}
	if _, err := l.ReadTile(tlog.Tile{H: 8, L: -1, N: 0, W: 1}); err == nil {
		t.Error("data tile served")
	}
}

func TestSizeForHashCount(t *testing.T) {
	counts := map[int64]bool{}
	for n := int64(0); n <= 2000; n++ {
		c := tlog.StoredHashCount(n)
		counts[c] = true
		if got, ok := SizeForHashCount(c); !ok || got != n {
			t.Fatalf("SizeForHashCount(%d) = %d %v, want %d", c, got, ok, n)
		}
	}
	for c := int64(0); c < tlog.StoredHashCount(2000); c++ {
		if _, ok := SizeForHashCount(c); ok != counts[c] {
			t.Fatalf("SizeForHashCount(%d) ok = %v", c, ok)
		}
	}
}

func TestMemStoreRefusals(t *testing.T) {
	m := NewMemStore()
	if err := m.WriteHashes(1, make([]tlog.Hash, 1)); err == nil {
		t.Error("write past the end accepted")
	}
	if err := m.WriteHashes(0, make([]tlog.Hash, 2)); err == nil {
		t.Error("write not ending on a leaf accepted") // 1 leaf = 1 hash, 2 leaves = 3
	}
	if m.TreeSize() != 0 {
		t.Fatal("refused writes changed the store")
	}
	if _, err := m.ReadHashes([]int64{0}); err == nil {
		t.Error("read of an unwritten hash succeeded")
	}
}

type failStore struct{ *MemStore }

var errDisk = errors.New("disk full")

func (failStore) WriteHashes(int64, []tlog.Hash) error { return errDisk }

func TestAppendFailureWritesNothing(t *testing.T) {
	ms := NewMemStore()
	if err := New(ms).Append(entries(11, 5)); err != nil {
		t.Fatal(err)
	}
	l := New(failStore{ms})
	if err := l.Append(entries(12, 5)); !errors.Is(err, errDisk) {
		t.Fatalf("err = %v", err)
	}
	if l.Size() != 5 {
		t.Fatalf("Size = %d after failed append", l.Size())
	}
	if err := l.Append(nil); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentReads(t *testing.T) {
	skey, _, _ := NewKey(rand.Reader, origin)
	signer, _ := note.NewSigner(skey)
	es := entries(13, 2000)
	l := New(NewMemStore())
	done := make(chan error)
	go func() {
		for i := 0; i < len(es); i += 50 {
			if err := l.Append(es[i : i+50]); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for finished := false; !finished; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			finished = true
		default:
		}
		n := l.Size()
		if n == 0 {
			continue
		}
		root, err := l.RootAt(n)
		if err != nil {
			t.Fatal(err)
		}
		p, err := l.InclusionProof(n-1, n)
		if err != nil {
			t.Fatal(err)
		}
		if err := tlog.CheckRecord(p, n, root, n-1, tlog.RecordHash(es[n-1])); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Checkpoint(origin, signer); err != nil {
			t.Fatal(err)
		}
	}
}
