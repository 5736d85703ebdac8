// Package geoindex holds in-memory spatial indexes that answer point queries
// in constant time, deferring to exact geometry only where a boundary passes.
//
// Grid classifies points into classes (small integers the caller interns)
// over a two-level latitude/longitude grid: a coarse cell whose whole extent
// has one class stores it; a cell a boundary crosses is split into fine
// cells, and a fine cell a boundary still crosses keeps a Field narrowed to
// it, which decides each point exactly. A Grid is immutable once built and
// safe for concurrent use, provided its Fields are; Fields must also be
// safe for concurrent use while the grid is built, which uses every core.
package geoindex

import (
	"math"
	"runtime"
	"sync"

	"github.com/truce-dev/truce/internal/geo"
)

// Class is the caller's name for a set of labels, such as "on party A's
// side, in zones 3 and 7, in sector 2".
type Class uint32

// A Field assigns a Class to every point.
type Field interface {
	// Cover describes the field over the disc of the given radius in metres
	// around c. When the whole disc has one class it returns that class and
	// true; otherwise it returns a Field that is exact inside the disc and
	// may be cheaper than the receiver there (or the receiver itself).
	Cover(c geo.Point, radius float64) (Class, bool, Field)
	// At returns the class of p exactly.
	At(p geo.Point) Class
}

// Options tune a Grid. Zero values take the defaults.
type Options struct {
	// CellDeg is the coarse cell size in degrees (default 0.1).
	CellDeg float64
	// Split is the number of fine cells along each side of a coarse cell,
	// rounded up to a power of two (default 16).
	Split int
}

const (
	refFlag = 1 << 31
	maxRef  = refFlag - 1
)

// Grid is a two-level classification grid. See the package documentation.
type Grid struct {
	root           Field
	bound          geo.Rect
	nx, ny, split  int
	inv, fineScale float64
	fineDeg        float64
	coarse         []uint32 // class, or refFlag|block index
	fine           []uint32 // blocks of split*split: class, or refFlag|leaf index
	leaves         []Field

	// Used while building.
	mu     sync.Mutex // guards blocks and leaves
	blocks [][]uint32
	sem    chan struct{} // idle cores
}

// Stats describes how a Grid resolved its area.
type Stats struct {
	CoarseCells, SplitCells, FineCells, ExactCells int
}

// NewGrid builds a Grid over bound. Points outside bound are answered by
// root.At.
//
// The grid is built top-down as a quadtree over its fine cells: a block
// whose whole extent has one class is filled at once, so the work grows
// with the length of the boundaries, not with the area; each block hands
// its children the Field narrowed to it.
func NewGrid(bound geo.Rect, root Field, opt Options) *Grid {
	if opt.CellDeg <= 0 {
		opt.CellDeg = 0.1
	}
	if opt.Split <= 0 {
		opt.Split = 64
	}
	split := 1
	for split < opt.Split {
		split *= 2
	}
	g := &Grid{root: root, bound: bound, split: split, inv: 1 / opt.CellDeg, fineScale: float64(split)}
	g.nx = max(1, int(math.Ceil((bound.MaxLon-bound.MinLon)*g.inv)))
	g.ny = max(1, int(math.Ceil((bound.MaxLat-bound.MinLat)*g.inv)))
	g.fineDeg = opt.CellDeg / float64(split)
	g.coarse = make([]uint32, g.nx*g.ny)
	for i := range g.coarse {
		g.coarse[i] = unset
	}
	size := 1
	for size < max(g.nx, g.ny)*split {
		size *= 2
	}
	g.sem = make(chan struct{}, runtime.GOMAXPROCS(0)-1)
	g.build(0, 0, size, root)
	g.fine = make([]uint32, 0, len(g.blocks)*split*split)
	for _, b := range g.blocks {
		g.fine = append(g.fine, b...)
	}
	g.blocks, g.sem = nil, nil
	return g
}

// unset marks a coarse cell whose fine block is not yet allocated.
const unset = refFlag | maxRef

// build classifies the block of size×size fine cells whose south-west
// fine cell is (fx, fy).
func (g *Grid) build(fx, fy, size int, f Field) {
	if fx >= g.nx*g.split || fy >= g.ny*g.split {
		return
	}
	c, r := cellDisc(g.bound.MinLat+float64(fy)*g.fineDeg, g.bound.MinLon+float64(fx)*g.fineDeg, float64(size)*g.fineDeg)
	class, uniform, sub := f.Cover(c, r)
	switch {
	case uniform:
		g.fill(fx, fy, size, uint32(class))
	case size == 1:
		g.mu.Lock()
		ref := refFlag | uint32(len(g.leaves))
		g.leaves = append(g.leaves, sub)
		g.mu.Unlock()
		g.fill(fx, fy, 1, ref)
	default:
		h := size / 2
		quads := [4][2]int{{fx, fy}, {fx + h, fy}, {fx, fy + h}, {fx + h, fy + h}}
		if size < parallelBlock {
			for _, q := range quads {
				g.build(q[0], q[1], h, sub)
			}
			return
		}
		// Large blocks: hand quadrants to idle cores. Quadrants own
		// disjoint coarse cells, so only the shared lists need the lock.
		var wg sync.WaitGroup
		for _, q := range quads {
			select {
			case g.sem <- struct{}{}:
				wg.Go(func() {
					defer func() { <-g.sem }()
					g.build(q[0], q[1], h, sub)
				})
			default:
				g.build(q[0], q[1], h, sub)
			}
		}
		wg.Wait()
	}
}

// parallelBlock is the block size, in fine cells, from which the build
// hands quadrants to other goroutines.
const parallelBlock = 256

// fill sets every fine cell of a block to v (a class, or a leaf reference).
func (g *Grid) fill(fx, fy, size int, v uint32) {
	if size >= g.split { // whole coarse cells
		for cy := fy / g.split; cy < min((fy+size)/g.split, g.ny); cy++ {
			for cx := fx / g.split; cx < min((fx+size)/g.split, g.nx); cx++ {
				g.coarse[cy*g.nx+cx] = v
			}
		}
		return
	}
	cx, cy := fx/g.split, fy/g.split
	e := &g.coarse[cy*g.nx+cx]
	g.mu.Lock()
	if *e == unset {
		*e = refFlag | uint32(len(g.blocks))
		g.blocks = append(g.blocks, make([]uint32, g.split*g.split))
	}
	block := g.blocks[*e&maxRef]
	g.mu.Unlock()
	for y := fy % g.split; y < fy%g.split+size; y++ {
		for x := fx % g.split; x < fx%g.split+size; x++ {
			block[y*g.split+x] = v
		}
	}
}

// cellDisc returns the centre of a lat/lon cell and a radius in metres that
// covers the whole cell.
func cellDisc(lat0, lon0, deg float64) (geo.Point, float64) {
	c := geo.Pt(lat0+deg/2, lon0+deg/2)
	r := 0.0
	for _, corner := range []geo.Point{geo.Pt(lat0, lon0), geo.Pt(lat0, lon0+deg), geo.Pt(lat0+deg, lon0), geo.Pt(lat0+deg, lon0+deg)} {
		r = max(r, geo.Distance(c, corner))
	}
	return c, r*1.01 + 1
}

// Lookup returns the class of p.
func (g *Grid) Lookup(p geo.Point) Class {
	x := (p.Lon - g.bound.MinLon) * g.inv
	y := (p.Lat - g.bound.MinLat) * g.inv
	if !(x >= 0 && y >= 0) || x >= float64(g.nx) || y >= float64(g.ny) { // NaN falls through to root
		return g.root.At(p)
	}
	ix, iy := int(x), int(y)
	e := g.coarse[iy*g.nx+ix]
	if e&refFlag == 0 {
		return Class(e)
	}
	fx := min(int((x-float64(ix))*g.fineScale), g.split-1)
	fy := min(int((y-float64(iy))*g.fineScale), g.split-1)
	f := g.fine[int(e&maxRef)*g.split*g.split+fy*g.split+fx]
	if f&refFlag == 0 {
		return Class(f)
	}
	return g.leaves[f&maxRef].At(p)
}

// Stats reports how the grid resolved its area.
func (g *Grid) Stats() Stats {
	s := Stats{CoarseCells: len(g.coarse), FineCells: len(g.fine), ExactCells: len(g.leaves)}
	for _, e := range g.coarse {
		if e&refFlag != 0 {
			s.SplitCells++
		}
	}
	return s
}
