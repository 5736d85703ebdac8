package evidence

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// Run with:
//
//	go test ./internal/evidence -run '^$' -bench 'Frontier|VerifyTiles' -benchtime 1x -count 3
//
// BenchmarkVerifyTiles10M builds a 10,000,000-leaf log once per process
// (about 15 s and 2 GB before the timer starts) and is skipped with -short.

// BenchmarkFrontierAppend streams leaf hashes into a Frontier and takes
// the root every 256 leaves, as a verifier reading entry bundles would.
func BenchmarkFrontierAppend(b *testing.B) {
	leaves := make([]tlog.Hash, 1<<16)
	for i := range leaves {
		leaves[i] = tlog.RecordHash(binary.BigEndian.AppendUint64(nil, uint64(i)))
	}
	var f Frontier
	n := 0
	for b.Loop() {
		for i, h := range leaves {
			f.Append(h)
			if i&255 == 255 {
				_ = f.Root()
			}
		}
		n += len(leaves)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "leaves/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/leaf")
}

// tiles10M is the fixture of BenchmarkVerifyTiles10M: the level-0 tiles of
// a 10,000,000-leaf log and its root as tlog.TreeHash computes it over a
// MemStore.
type tiles10M struct {
	size  int64
	root  tlog.Hash
	tiles [][]byte // tile N's data, by N
}

func (f *tiles10M) ReadTile(ctx context.Context, t tlog.Tile) ([]byte, error) {
	if t.H != TileHeight || t.L != 0 || t.N >= int64(len(f.tiles)) || len(f.tiles[t.N]) < t.W*tlog.HashSize {
		return nil, fmt.Errorf("no tile %+v", t)
	}
	return f.tiles[t.N][:t.W*tlog.HashSize], nil
}

var fixture10M = sync.OnceValues(func() (*tiles10M, error) {
	const size = 10_000_000
	f := &tiles10M{size: size}
	l := New(NewMemStore())
	batch := make([]tlog.Hash, 0, 1<<20)
	var tile []byte
	for i := range int64(size) {
		// Leaf i is the hash of a synthetic 400-byte entry.
		var e [400]byte
		binary.BigEndian.PutUint64(e[:], uint64(i))
		h := tlog.RecordHash(e[:])
		batch = append(batch, h)
		if tile == nil {
			tile = make([]byte, 0, 256*tlog.HashSize)
		}
		tile = append(tile, h[:]...)
		if len(tile) == cap(tile) || i == size-1 {
			f.tiles = append(f.tiles, tile)
			tile = nil
		}
		if len(batch) == cap(batch) || i == size-1 {
			if err := l.AppendLeafHashes(batch); err != nil {
				return nil, err
			}
			batch = batch[:0]
		}
	}
	root, err := l.Root()
	if err != nil {
		return nil, err
	}
	f.root = root
	// The tiles built here are the log's own.
	for _, t := range []tlog.Tile{{H: 8, L: 0, N: 0, W: 256}, {H: 8, L: 0, N: 20000, W: 256}, {H: 8, L: 0, N: size / 256, W: size % 256}} {
		want, err := l.ReadTile(t)
		if err != nil {
			return nil, err
		}
		if got, _ := f.ReadTile(context.Background(), t); !bytes.Equal(got, want) {
			return nil, fmt.Errorf("tile %s differs from the log's", TilePath(t))
		}
	}
	return f, nil
})

// BenchmarkVerifyTiles10M verifies a 10,000,000-leaf log from its 39,063
// level-0 tiles (held in memory), against its root, with 1 and 2 workers;
// the leaves callback is set, as a verifier checking entries would.
func BenchmarkVerifyTiles10M(b *testing.B) {
	if testing.Short() {
		b.Skip("builds a 10,000,000-leaf log")
	}
	f, err := fixture10M()
	if err != nil {
		b.Fatal(err)
	}
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			n := int64(0)
			for b.Loop() {
				var got int64
				err := VerifyTiles(b.Context(), f.size, f.root, f, workers, func(_ int64, hs []tlog.Hash) error {
					got += int64(len(hs))
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				if got != f.size {
					b.Fatalf("%d leaves handed over, want %d", got, f.size)
				}
				n += f.size
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "leaves/s")
		})
	}
}
