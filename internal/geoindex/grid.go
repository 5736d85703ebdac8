// Package geoindex holds in-memory spatial indexes that answer point queries
// in constant time, deferring to exact geometry only where a boundary passes.
//
// Grid classifies points into classes (small integers the caller interns)
// over a two-level latitude/longitude grid: a coarse cell whose whole extent
// has one class stores it; a cell a boundary crosses is split into fine
// cells, and a fine cell a boundary still crosses keeps a Field narrowed to
// it, which decides each point exactly. A Grid is immutable once built and
// safe for concurrent use, provided its Fields are.
package geoindex

import (
	"math"

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
	// Split is the number of fine cells along each side of a coarse cell
	// (default 16).
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
	coarse         []uint32 // class, or refFlag|block index
	fine           []uint32 // blocks of split*split: class, or refFlag|leaf index
	leaves         []Field
}

// Stats describes how a Grid resolved its area.
type Stats struct {
	CoarseCells, SplitCells, FineCells, ExactCells int
}

// NewGrid builds a Grid over bound. Points outside bound are answered by
// root.At.
func NewGrid(bound geo.Rect, root Field, opt Options) *Grid {
	if opt.CellDeg <= 0 {
		opt.CellDeg = 0.1
	}
	if opt.Split <= 0 {
		opt.Split = 16
	}
	g := &Grid{root: root, bound: bound, split: opt.Split, inv: 1 / opt.CellDeg, fineScale: float64(opt.Split)}
	g.nx = max(1, int(math.Ceil((bound.MaxLon-bound.MinLon)*g.inv)))
	g.ny = max(1, int(math.Ceil((bound.MaxLat-bound.MinLat)*g.inv)))
	g.coarse = make([]uint32, g.nx*g.ny)
	fineDeg := opt.CellDeg / float64(opt.Split)
	for iy := range g.ny {
		lat0 := bound.MinLat + float64(iy)*opt.CellDeg
		for ix := range g.nx {
			lon0 := bound.MinLon + float64(ix)*opt.CellDeg
			c, r := cellDisc(lat0, lon0, opt.CellDeg)
			class, uniform, sub := root.Cover(c, r)
			if uniform {
				g.coarse[iy*g.nx+ix] = uint32(class)
				continue
			}
			g.coarse[iy*g.nx+ix] = refFlag | uint32(len(g.fine)/(g.split*g.split))
			for fy := range g.split {
				for fx := range g.split {
					fc, fr := cellDisc(lat0+float64(fy)*fineDeg, lon0+float64(fx)*fineDeg, fineDeg)
					class, uniform, leaf := sub.Cover(fc, fr)
					if uniform {
						g.fine = append(g.fine, uint32(class))
						continue
					}
					g.fine = append(g.fine, refFlag|uint32(len(g.leaves)))
					g.leaves = append(g.leaves, leaf)
				}
			}
		}
	}
	return g
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
