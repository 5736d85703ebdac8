package evidence

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

func TestFrontierSmall(t *testing.T) {
	const N = 600
	es := entries(40, N)
	l := build(t, es, 40)
	ref := independentHashes(t, es)
	var f Frontier
	for n := int64(0); n <= N; n++ {
		if n > 0 {
			f.Append(tlog.RecordHash(es[n-1]))
		}
		if f.Size() != n {
			t.Fatalf("Size = %d, want %d", f.Size(), n)
		}
		got := f.Root()
		want, err := tlog.TreeHash(n, ref)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("size %d: Frontier root %v, tlog.TreeHash %v", n, got, want)
		}
		if fromLog, _ := l.RootAt(n); got != fromLog {
			t.Fatalf("size %d: Frontier root %v, MemStore log %v", n, got, fromLog)
		}
		if got != tlog.Hash(mth6962(es[:n])) {
			t.Fatalf("size %d: Frontier root %v differs from direct RFC 6962 MTH", n, got)
		}
		if f.k > 63 || int64(f.k) != int64(popcount(n)) {
			t.Fatalf("size %d: %d hashes held", n, f.k)
		}
	}
	var empty Frontier
	if empty.Root() != tlog.Hash(sha256.Sum256(nil)) {
		t.Fatal("empty root is not SHA-256 of nothing")
	}
}

func popcount(n int64) int {
	c := 0
	for ; n != 0; n &= n - 1 {
		c++
	}
	return c
}

// bigLog is a log of 100,000 pseudo-random entries, shared by the tests
// (built once: about a second).
var bigLog = sync.OnceValues(func() (*Log, [][]byte) {
	es := entries(41, 100_000)
	l := New(NewMemStore())
	r := mrand.New(mrand.NewPCG(41, 2))
	for i := 0; i < len(es); {
		j := min(len(es), i+1+r.IntN(2000))
		if err := l.Append(es[i:j]); err != nil {
			panic(err)
		}
		i = j
	}
	return l, es
})

func TestFrontierLarge(t *testing.T) {
	l, es := bigLog()
	N := int64(len(es))
	check := map[int64]bool{N: true}
	for k := 1; 1<<k <= N; k++ {
		check[1<<k-1], check[1<<k], check[1<<k+1] = true, true, true
	}
	r := mrand.New(mrand.NewPCG(42, 1))
	for range 300 {
		check[1+r.Int64N(N)] = true
	}
	var f Frontier
	for i, e := range es {
		f.Append(tlog.RecordHash(e))
		if n := int64(i + 1); check[n] {
			want, err := l.RootAt(n)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Root(); got != want {
				t.Fatalf("size %d: Frontier root %v, tlog.TreeHash over MemStore %v", n, got, want)
			}
		}
	}
}

func TestFrontierAppendSubtree(t *testing.T) {
	l, es := bigLog()
	r := mrand.New(mrand.NewPCG(43, 1))
	for range 50 {
		size := 1 + r.Int64N(int64(len(es)))
		// Cover the first size leaves with aligned subtrees of random
		// levels, their roots read from the MemStore's stored hashes.
		var f Frontier
		for f.Size() < size {
			n := f.Size()
			level := 0
			for level < 17 && n&(1<<(level+1)-1) == 0 && n+1<<(level+1) <= size && r.IntN(4) != 0 {
				level++
			}
			h, err := l.hs.ReadHashes([]int64{tlog.StoredHashIndex(level, n>>level)})
			if err != nil {
				t.Fatal(err)
			}
			if err := f.AppendSubtree(level, h[0]); err != nil {
				t.Fatalf("AppendSubtree(%d) at %d: %v", level, n, err)
			}
		}
		want, _ := l.RootAt(size)
		if got := f.Root(); f.Size() != size || got != want {
			t.Fatalf("size %d from subtrees: %d leaves, root %v, want %v", size, f.Size(), got, want)
		}
	}

	// Refusals leave the frontier as it was.
	var f Frontier
	f.Append(tlog.RecordHash([]byte("a")))
	before := f
	for _, c := range []struct {
		level int
		msg   string
	}{
		{1, "evidence: a subtree of 2^1 leaves cannot follow 1 leaves"},
		{-1, "evidence: no subtree of level -1 in a tree of int64 size"},
		{63, "evidence: no subtree of level 63 in a tree of int64 size"},
	} {
		if err := f.AppendSubtree(c.level, tlog.Hash{}); err == nil || err.Error() != c.msg {
			t.Errorf("AppendSubtree(%d) after 1 leaf: %v, want %q", c.level, err, c.msg)
		}
	}
	if f != before {
		t.Error("a refused AppendSubtree changed the frontier")
	}
	var g Frontier
	if err := g.AppendSubtree(62, tlog.Hash{1}); err != nil {
		t.Fatal(err)
	}
	if err := g.AppendSubtree(62, tlog.Hash{2}); err == nil || !strings.Contains(err.Error(), "overflows") {
		t.Errorf("second subtree of 2^62 leaves: %v", err)
	}
	if err := g.AppendSubtree(61, tlog.Hash{2}); err != nil || g.Size() != 1<<62+1<<61 {
		t.Errorf("subtree of 2^61 after 2^62: size %d, %v", g.Size(), err)
	}
	if want := tlog.NodeHash(tlog.Hash{1}, tlog.Hash{2}); g.Root() != want {
		t.Errorf("root of two subtrees %v, want %v", g.Root(), want)
	}

	// A copy is a snapshot.
	h := f
	h.Append(tlog.RecordHash([]byte("b")))
	if f.Size() != 1 || f.Root() != tlog.RecordHash([]byte("a")) || h.Size() != 2 {
		t.Error("appending to a copy changed the original")
	}
}

// logTiles serves a log's level-0 tiles as a TileReader would fetch them.
type logTiles struct{ l *Log }

func (r logTiles) ReadTile(ctx context.Context, t tlog.Tile) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if t.H != TileHeight || t.L != 0 {
		return nil, fmt.Errorf("asked for tile %+v", t)
	}
	return r.l.ReadTile(t)
}

// tileFunc is a TileReader from a function.
type tileFunc func(ctx context.Context, t tlog.Tile) ([]byte, error)

func (f tileFunc) ReadTile(ctx context.Context, t tlog.Tile) ([]byte, error) { return f(ctx, t) }

// tamper returns a reader that serves the log's tiles, through change for
// tile n.
func tamper(l *Log, n int64, change func([]byte) ([]byte, error)) TileReader {
	return tileFunc(func(ctx context.Context, t tlog.Tile) ([]byte, error) {
		d, err := logTiles{l}.ReadTile(ctx, t)
		if err != nil || t.N != n {
			return d, err
		}
		return change(bytes.Clone(d))
	})
}

var errFetch = errors.New("503 service unavailable")

func TestVerifyTiles(t *testing.T) {
	l, es := bigLog()
	for _, size := range []int64{0, 1, 255, 256, 257, 65536, 65537, 100_000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			root, err := l.RootAt(size)
			if err != nil {
				t.Fatal(err)
			}
			if size <= 257 && root != tlog.Hash(mth6962(es[:size])) {
				t.Fatal("log root is not the RFC 6962 root")
			}
			tiles := slices.Collect(LevelTiles(0, size))
			last := int64(len(tiles)) - 1

			for _, workers := range []int{0, 1, 3} {
				// The right root is accepted; every tile is read once;
				// the leaves come in order and are the entries' hashes.
				var mu sync.Mutex
				fetched := map[tlog.Tile]int{}
				r := tileFunc(func(ctx context.Context, t tlog.Tile) ([]byte, error) {
					mu.Lock()
					fetched[t]++
					mu.Unlock()
					return logTiles{l}.ReadTile(ctx, t)
				})
				var next int64 // next leaf index expected
				err := VerifyTiles(t.Context(), size, root, r, workers, func(n int64, hs []tlog.Hash) error {
					if n != next>>8 || next&255 != 0 || len(hs) != tiles[n].W {
						return fmt.Errorf("tile %d of %d hashes after %d leaves", n, len(hs), next)
					}
					for i, h := range hs {
						if h != tlog.RecordHash(es[next+int64(i)]) {
							return fmt.Errorf("leaf %d is not the entry's hash", next+int64(i))
						}
					}
					next += int64(len(hs))
					return nil
				})
				if err != nil {
					t.Fatalf("workers=%d: %v", workers, err)
				}
				if next != size {
					t.Fatalf("workers=%d: leaves handed over: %d, want %d", workers, next, size)
				}
				if len(fetched) != len(tiles) {
					t.Fatalf("workers=%d: fetched %d tiles, want %d", workers, len(fetched), len(tiles))
				}
				for _, tile := range tiles {
					if fetched[tile] != 1 {
						t.Fatalf("workers=%d: tile %s fetched %d times", workers, TilePath(tile), fetched[tile])
					}
				}
				// And without a leaves callback.
				if err := VerifyTiles(t.Context(), size, root, logTiles{l}, workers, nil); err != nil {
					t.Fatalf("workers=%d, no callback: %v", workers, err)
				}
			}

			// A wrong root.
			wrong := root
			wrong[31] ^= 1
			err = VerifyTiles(t.Context(), size, wrong, logTiles{l}, 2, nil)
			want := fmt.Sprintf("evidence: tree of size %d from its tiles has root %v, checkpoint says %v", size, root, wrong)
			if err == nil || err.Error() != want {
				t.Fatalf("wrong root: %v, want %q", err, want)
			}
			if size == 0 {
				return
			}

			for _, n := range []int64{0, last / 2, last} {
				tile := tiles[n]
				path := TilePath(tile)
				// One flipped byte in a tile: a different root.
				for _, at := range []int{0, tile.W*32 - 1} {
					r := tamper(l, n, func(d []byte) ([]byte, error) { d[at] ^= 0x40; return d, nil })
					err := VerifyTiles(t.Context(), size, root, r, 2, nil)
					re := regexp.MustCompile(fmt.Sprintf(`^evidence: tree of size %d from its tiles has root [A-Za-z0-9+/]{43}=, checkpoint says %s$`, size, regexp.QuoteMeta(root.String())))
					if err == nil || !re.MatchString(err.Error()) || strings.Contains(err.Error(), "root "+root.String()+",") {
						t.Errorf("byte %d of tile %s flipped: %v", at, path, err)
					}
				}
				// A tile one byte short, or one hash long.
				r := tamper(l, n, func(d []byte) ([]byte, error) { return d[:len(d)-1], nil })
				err := VerifyTiles(t.Context(), size, root, r, 2, nil)
				want := fmt.Sprintf("evidence: verify tiles: tile %s has %d bytes, want %d (%d hashes)", path, tile.W*32-1, tile.W*32, tile.W)
				if err == nil || err.Error() != want {
					t.Errorf("short tile: %v, want %q", err, want)
				}
				r = tamper(l, n, func(d []byte) ([]byte, error) { return append(d, make([]byte, 32)...), nil })
				err = VerifyTiles(t.Context(), size, root, r, 2, nil)
				want = fmt.Sprintf("evidence: verify tiles: tile %s has %d bytes, want %d (%d hashes)", path, tile.W*32+32, tile.W*32, tile.W)
				if err == nil || err.Error() != want {
					t.Errorf("long tile: %v, want %q", err, want)
				}
				// A reader error.
				r = tamper(l, n, func([]byte) ([]byte, error) { return nil, errFetch })
				err = VerifyTiles(t.Context(), size, root, r, 2, nil)
				want = fmt.Sprintf("evidence: verify tiles: reading tile %s: %v", path, errFetch)
				if !errors.Is(err, errFetch) || err.Error() != want {
					t.Errorf("reader error: %v, want %q", err, want)
				}
			}
		})
	}
}

func TestVerifyTilesEmpty(t *testing.T) {
	r := tileFunc(func(context.Context, tlog.Tile) ([]byte, error) {
		return nil, errors.New("no tile to read in an empty tree")
	})
	empty := tlog.Hash(sha256.Sum256(nil))
	if err := VerifyTiles(t.Context(), 0, empty, r, 2, func(int64, []tlog.Hash) error {
		return errors.New("no leaves in an empty tree")
	}); err != nil {
		t.Fatal(err)
	}
	if err := VerifyTiles(t.Context(), -1, empty, r, 2, nil); err == nil || err.Error() != "evidence: verify tiles: no tree of size -1" {
		t.Fatalf("size -1: %v", err)
	}
}

// TestVerifyTilesFirstError checks that of two bad tiles the first in
// order is reported, however the workers' reads interleave.
func TestVerifyTilesFirstError(t *testing.T) {
	l, _ := bigLog()
	const size = 100_000
	root, _ := l.RootAt(size)
	for i := range 20 {
		workers := 1 + i%4
		// With more than one worker, tile 30 fails only after tile 31 has
		// failed (or the verification stopped): the later error comes
		// first in time.
		read31 := make(chan struct{})
		var once sync.Once
		r := tileFunc(func(ctx context.Context, t tlog.Tile) ([]byte, error) {
			if t.N == 30 {
				if workers > 1 {
					select {
					case <-read31:
					case <-ctx.Done():
					}
				}
				return nil, errFetch
			}
			d, err := logTiles{l}.ReadTile(ctx, t)
			if t.N == 31 {
				once.Do(func() { close(read31) })
				return d[:100], err
			}
			return d, err
		})
		err := VerifyTiles(t.Context(), size, root, r, workers, nil)
		if !errors.Is(err, errFetch) || !strings.Contains(err.Error(), "tile/0/030") {
			t.Fatalf("workers=%d: %v, want the error of tile/0/030", 1+i%4, err)
		}
	}
}

func TestVerifyTilesLeavesError(t *testing.T) {
	l, _ := bigLog()
	root, _ := l.RootAt(65537)
	errStop := errors.New("entry 513 does not match")
	calls := 0
	err := VerifyTiles(t.Context(), 65537, root, logTiles{l}, 2, func(n int64, _ []tlog.Hash) error {
		calls++
		if n == 2 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || err.Error() != "evidence: verify tiles: leaves of tile tile/0/002: "+errStop.Error() {
		t.Fatalf("err = %v", err)
	}
	if calls != 3 {
		t.Fatalf("leaves called %d times, want 3", calls)
	}
}

func TestVerifyTilesCancel(t *testing.T) {
	l, _ := bigLog()
	root, _ := l.RootAt(100_000)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := VerifyTiles(ctx, 100_000, root, logTiles{l}, 2, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled before: %v", err)
	}

	// Cancelled part way, by a reader that ignores ctx.
	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	r := tileFunc(func(_ context.Context, t tlog.Tile) ([]byte, error) {
		if t.N == 100 {
			cancel()
		}
		return l.ReadTile(t)
	})
	err := VerifyTiles(ctx, 100_000, root, r, 2, nil)
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "evidence: verify tiles: stopped after ") {
		t.Fatalf("cancelled part way: %v", err)
	}
}

// TestVerifyTilesBounded checks that VerifyTiles reads ahead of the tiles
// it has handed over by fewer than tileWindow(workers) tiles, so that its
// memory does not grow with the tree, even when a tile is slow to come.
func TestVerifyTilesBounded(t *testing.T) {
	l, _ := bigLog()
	const size = 100_000
	root, _ := l.RootAt(size)
	for _, workers := range []int{1, 2, 4} {
		var delivered, worst atomic.Int64
		window := int64(tileWindow(workers))
		// A slow tile (every hundredth) holds its read until the others
		// have read as far ahead as the window lets them (or, should they
		// never, until a watchdog gives up, and the check below fails).
		var mu sync.Mutex
		cond := sync.NewCond(&mu)
		var furthest int64
		stalled := false
		watchdog := time.AfterFunc(time.Minute, func() { mu.Lock(); stalled = true; cond.Broadcast(); mu.Unlock() })
		r := tileFunc(func(ctx context.Context, t tlog.Tile) ([]byte, error) {
			ahead := t.N - delivered.Load()
			for w := worst.Load(); ahead > w && !worst.CompareAndSwap(w, ahead); w = worst.Load() {
			}
			mu.Lock()
			furthest = max(furthest, t.N)
			cond.Broadcast()
			if workers > 1 && t.N%100 == 0 {
				for furthest < t.N+window-1 && !stalled && ctx.Err() == nil {
					cond.Wait()
				}
			}
			mu.Unlock()
			return logTiles{l}.ReadTile(ctx, t)
		})
		err := VerifyTiles(t.Context(), size, root, r, workers, func(int64, []tlog.Hash) error {
			delivered.Add(1)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		watchdog.Stop()
		w := worst.Load()
		if w >= window {
			t.Errorf("workers=%d: read tile %d ahead of the tiles handed over, window %d", workers, w, window)
		}
		if workers > 1 && w < window-1 {
			t.Errorf("workers=%d: read at most %d tiles ahead while tiles were slow, want %d", workers, w, window-1)
		}
	}
}
