package geoindex

import (
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/truce-dev/truce/internal/geo"
)

// discs is a Field of concentric rings around a centre: class k for points
// between k and k+1 times step metres away. Cover is exact, so the grid must
// answer every point as At does.
type discs struct {
	centre geo.Point
	step   float64
	covers *atomic.Int64
}

func (d discs) ring(m float64) Class { return Class(int(m / d.step)) }

func (d discs) Cover(c geo.Point, r float64) (Class, bool, Field) {
	d.covers.Add(1)
	m := geo.Distance(c, d.centre)
	lo, hi := d.ring(max(m-r, 0)), d.ring(m+r)
	if lo == hi {
		return lo, true, nil
	}
	return 0, false, d
}

func (d discs) At(p geo.Point) Class { return d.ring(geo.Distance(p, d.centre)) }

func TestGridMatchesField(t *testing.T) {
	var covers atomic.Int64
	f := discs{centre: geo.Pt(48, 36), step: 40e3, covers: &covers}
	bound := geo.Rect{MinLat: 47, MinLon: 34.5, MaxLat: 49, MaxLon: 37.5}
	g := NewGrid(bound, f, Options{CellDeg: 0.1, Split: 16})
	r := rand.New(rand.NewPCG(1, 1))
	for range 100000 {
		p := geo.Pt(46.5+r.Float64()*3, 34+r.Float64()*4) // some outside the bound
		if got, want := g.Lookup(p), f.At(p); got != want {
			t.Fatalf("Lookup(%v) = %d, want %d", p, got, want)
		}
	}
	s := g.Stats()
	if s.CoarseCells != 20*30 || s.SplitCells == 0 || s.SplitCells == s.CoarseCells || s.ExactCells == 0 {
		t.Errorf("stats %+v: want 600 coarse cells, some but not all split, some exact", s)
	}
	// The quadtree build visits cells along the rings' edges, not every
	// fine cell of the grid.
	if all := 20 * 30 * 16 * 16; covers.Load() > int64(all/4) {
		t.Errorf("built with %d Cover calls for %d fine cells; want far fewer", covers.Load(), all)
	}
}

func TestGridEdges(t *testing.T) {
	var covers atomic.Int64
	f := discs{centre: geo.Pt(0, 0), step: 50e3, covers: &covers}
	g := NewGrid(geo.Rect{MinLat: -1, MinLon: -1, MaxLat: 1, MaxLon: 1}, f, Options{})
	for _, p := range []geo.Point{geo.Pt(1, 1), geo.Pt(-1, -1), geo.Pt(0.9999999, -1), geo.Pt(2, 2), {Lat: 0, Lon: 1e9}} {
		if got, want := g.Lookup(p), f.At(p); got != want {
			t.Errorf("Lookup(%v) = %d, want %d", p, got, want)
		}
	}
}
