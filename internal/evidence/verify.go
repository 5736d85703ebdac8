package evidence

import (
	"context"
	"fmt"
	"math"
	"sync"

	"golang.org/x/mod/sumdb/tlog"
)

// A Frontier is the compact range of the first n leaves of a tree: the
// roots of the complete subtrees that the binary decomposition of n splits
// them into, largest (leftmost) first, at most 63 hashes. It is how a
// verifier streams leaf hashes in order and gets the RFC 6962 root of
// every prefix without holding the tree. The zero Frontier is the empty
// tree. A Frontier is a value: a copy is a snapshot that grows on its own.
// It is not safe for concurrent use.
type Frontier struct {
	n      int64
	hashes [63]tlog.Hash // hashes[:bits.OnesCount64(n)], levels decreasing
	k      int           // number of hashes in use
}

// Size returns the number of leaves appended.
func (f *Frontier) Size() int64 { return f.n }

// Append adds the leaf with hash leaf ([tlog.RecordHash] of the entry's
// bytes) as leaf Size(). It panics on the 2^63rd leaf.
func (f *Frontier) Append(leaf tlog.Hash) {
	if err := f.AppendSubtree(0, leaf); err != nil {
		panic(err)
	}
}

// AppendSubtree adds a complete subtree of 2^level leaves, given its root,
// as leaves Size() to Size()+2^level-1. Size() must be a multiple of
// 2^level, as it is for a full tile's root (level 8) or a hash in a level-1
// tile (level 8 too, of the tile below). The root is taken on trust: a
// wrong one gives a wrong [Frontier.Root].
func (f *Frontier) AppendSubtree(level int, root tlog.Hash) error {
	if level < 0 || level > 62 {
		return fmt.Errorf("evidence: no subtree of level %d in a tree of int64 size", level)
	}
	if f.n&(1<<level-1) != 0 {
		return fmt.Errorf("evidence: a subtree of 2^%d leaves cannot follow %d leaves", level, f.n)
	}
	if f.n > math.MaxInt64-1<<level {
		return fmt.Errorf("evidence: a subtree of 2^%d leaves overflows a tree of %d leaves", level, f.n)
	}
	// Each 1 bit of n from bit level up is a complete subtree on the
	// right edge that the new one completes into a larger one.
	h := root
	for m := f.n >> level; m&1 != 0; m >>= 1 {
		f.k--
		h = tlog.NodeHash(f.hashes[f.k], h)
	}
	f.hashes[f.k] = h
	f.k++
	f.n += 1 << level
	return nil
}

// Root returns the RFC 6962 root hash of the leaves appended so far, the
// hash of the empty string for none, as [tlog.TreeHash] computes it.
func (f *Frontier) Root() tlog.Hash {
	if f.k == 0 {
		h, _ := tlog.TreeHash(0, nil) // reads nothing
		return h
	}
	// RFC 6962: MTH(D[0:n]) = NodeHash(MTH(D[0:k]), MTH(D[k:n])) for the
	// largest power of two k < n, so fold from the right.
	h := f.hashes[f.k-1]
	for i := f.k - 2; i >= 0; i-- {
		h = tlog.NodeHash(f.hashes[i], h)
	}
	return h
}

// A TileReader fetches C2SP tlog-tiles hash tiles: ReadTile returns the
// data of tile t (t.H == [TileHeight], t.L >= 0), the t.W hashes of the
// tile concatenated, as served at [TilePath](t). It may be called from
// several goroutines at once. The caller does not modify or keep the data.
type TileReader interface {
	ReadTile(ctx context.Context, t tlog.Tile) ([]byte, error)
}

// tileWindow is the most level-0 tiles VerifyTiles has claimed but not
// yet folded into the root at any one time, for a number of workers: the
// bound on the tiles it holds.
func tileWindow(workers int) int { return 16 * workers }

// VerifyTiles checks that the level-0 tiles read from r are those of the
// tree of size leaves whose root is root, as a checkpoint states them. It
// fetches every level-0 tile of the tree ([LevelTiles](0, size)), checks
// each has the tile's width of hashes, hashes the full tiles into their
// subtree roots on workers goroutines (at least 1), combines these and the
// leaves of the partial tile, in order, into the tree's RFC 6962 root and
// compares it with root. It holds a bounded number of tiles at a time
// (16 per worker), whatever the size.
//
// If leaves is not nil, VerifyTiles calls it with each tile's number N and
// leaf hashes (leaves N*256 onwards), in order and never concurrently
// (though not always from the same goroutine), so that the caller can
// check entries against them. The hashes are verified only once
// VerifyTiles returns nil: a caller must not act on them before. The slice
// is reused after the call returns. An error from leaves stops the
// verification and is returned, wrapped.
//
// The first tile in order that cannot be read, or has the wrong length,
// is the error; otherwise a root that differs is. A cancelled ctx stops
// the verification with ctx's error.
func VerifyTiles(ctx context.Context, size int64, root tlog.Hash, r TileReader, workers int, leaves func(n int64, hashes []tlog.Hash) error) error {
	if size < 0 {
		return fmt.Errorf("evidence: verify tiles: no tree of size %d", size)
	}
	workers = max(workers, 1)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	v := &tileVerifier{
		ctx:    wctx,
		cancel: cancel,
		r:      r,
		leaves: leaves,
		size:   size,
		tiles:  (size + tileWidth - 1) / tileWidth,
		slots:  make([]tileJob, tileWindow(workers)),
	}
	v.cond = sync.NewCond(&v.mu)
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(v.work)
	}
	v.work()
	wg.Wait()

	if v.err != nil {
		return v.err
	}
	if n := v.f.Size(); n != size {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("evidence: verify tiles: stopped after %d of %d leaves: %w", n, size, err)
		}
		// Not reached: the tiles cover exactly size leaves.
		return fmt.Errorf("evidence: verify tiles: tiles cover %d leaves, not %d", n, size)
	}
	if got := v.f.Root(); got != root {
		return fmt.Errorf("evidence: tree of size %d from its tiles has root %v, checkpoint says %v", size, got, root)
	}
	return nil
}

// A tileVerifier is the state VerifyTiles's workers share. Each worker
// claims the next tile, reads and hashes it, and marks it ready; whichever
// worker finds the first unfolded tile ready becomes the folder and folds
// ready tiles in order into the frontier (calling leaves) until it meets
// one not ready. So no goroutine waits on another's scheduling, and a
// worker waits only when the first unfolded tile is tileWindow tiles
// behind the next to claim.
type tileVerifier struct {
	ctx    context.Context
	cancel context.CancelFunc
	r      TileReader
	leaves func(n int64, hashes []tlog.Hash) error
	size   int64 // leaves in the tree
	tiles  int64 // level-0 tiles in the tree

	mu      sync.Mutex
	cond    *sync.Cond // on mu: folded advanced, or err set
	next    int64      // next tile to claim
	folded  int64      // tiles folded into f
	folding bool       // a worker is folding
	err     error      // the first error, in tile order
	slots   []tileJob  // tile n in slots[n%len(slots)], for folded <= n < next

	f Frontier // the folder's alone
}

// work claims, reads and hashes tiles, and folds them when it is its turn,
// until there are none left or an error stops the verification.
func (v *tileVerifier) work() {
	window := int64(len(v.slots))
	v.mu.Lock()
	defer v.mu.Unlock()
	for {
		for v.err == nil && v.next < v.tiles && v.next-v.folded >= window {
			v.cond.Wait()
		}
		if v.err != nil || v.next >= v.tiles || v.ctx.Err() != nil {
			return
		}
		n := v.next
		v.next++
		j := &v.slots[n%window]
		v.mu.Unlock()

		j.tile = tlog.Tile{H: TileHeight, L: 0, N: n, W: tileWidth}
		if n == v.size/tileWidth {
			j.tile.W = int(v.size % tileWidth) // the partial tile
		}
		j.run(v.ctx, v.r, v.leaves != nil)

		v.mu.Lock()
		j.ready = true
		if v.folding {
			continue
		}
		v.folding = true
		for v.err == nil && v.folded < v.tiles && v.slots[v.folded%window].ready {
			h := &v.slots[v.folded%window]
			v.mu.Unlock()
			err := v.fold(h)
			v.mu.Lock()
			h.ready = false
			if err != nil {
				v.err = err
				v.cancel()
			} else {
				v.folded++
			}
			v.cond.Broadcast()
		}
		v.folding = false
	}
}

// fold adds tile j, read and hashed, to the frontier, after handing its
// leaves to the caller.
func (v *tileVerifier) fold(j *tileJob) error {
	if j.err != nil {
		return j.err
	}
	if v.leaves != nil || j.tile.W < tileWidth {
		// The leaf hashes of a partial tile are needed here.
		j.decodeLeaves()
	}
	if v.leaves != nil {
		if err := v.leaves(j.tile.N, j.leaves[:j.tile.W]); err != nil {
			return fmt.Errorf("evidence: verify tiles: leaves of tile %s: %w", TilePath(j.tile), err)
		}
	}
	j.data = nil
	if j.tile.W < tileWidth {
		for _, h := range j.leaves[:j.tile.W] {
			v.f.Append(h)
		}
		return nil
	}
	return v.f.AppendSubtree(TileHeight, j.root)
}

// A tileJob is one level-0 tile in VerifyTiles, in a slot that is reused
// for the tile tileWindow later.
type tileJob struct {
	tile    tlog.Tile
	data    []byte
	root    tlog.Hash // of a full tile
	leaves  [tileWidth]tlog.Hash
	decoded bool // leaves holds data's hashes
	err     error
	ready   bool // read and hashed; guarded by tileVerifier.mu
}

// run reads the tile and checks its length, hashes a full tile into its
// subtree root, and decodes the leaf hashes if the caller wants them.
func (j *tileJob) run(ctx context.Context, r TileReader, wantLeaves bool) {
	j.data, j.err, j.decoded = nil, nil, false
	data, err := r.ReadTile(ctx, j.tile)
	if err != nil {
		j.err = fmt.Errorf("evidence: verify tiles: reading tile %s: %w", TilePath(j.tile), err)
		return
	}
	if want := j.tile.W * tlog.HashSize; len(data) != want {
		j.err = fmt.Errorf("evidence: verify tiles: tile %s has %d bytes, want %d (%d hashes)", TilePath(j.tile), len(data), want, j.tile.W)
		return
	}
	j.data = data
	if j.tile.W == tileWidth {
		// The two level-7 hashes of the tile, by tlog's own tile hashing.
		var half [2]tlog.Hash
		for i := range half {
			h, err := tlog.HashFromTile(j.tile, data, tlog.StoredHashIndex(TileHeight-1, 2*j.tile.N+int64(i)))
			if err != nil {
				j.err = fmt.Errorf("evidence: verify tiles: hashing tile %s: %w", TilePath(j.tile), err)
				return
			}
			half[i] = h
		}
		j.root = tlog.NodeHash(half[0], half[1])
	}
	if wantLeaves {
		j.decodeLeaves()
	}
}

// decodeLeaves splits the tile's data into leaf hashes, once.
func (j *tileJob) decodeLeaves() {
	if j.decoded {
		return
	}
	for i := range j.tile.W {
		copy(j.leaves[i][:], j.data[i*tlog.HashSize:])
	}
	j.decoded = true
}
