package fuse

import (
	"math"
	"slices"
	"time"

	"github.com/truce-dev/truce/internal/geo"
)

// The window's index is a set of space-time grids. An observation is
// filed in one grid, chosen by its reach in time (time uncertainty plus its
// method's gate) and its extent in space (so that it covers at most 4×4
// cells), under every cell its extent covers, in a list sorted by time. A
// query looks in every grid, in the cells its own extent covers, at the
// times its reach plus the grid's reach allow: a superset of the
// observations it can be compatible with.
var (
	timeLevels  = [...]int64{int64(15 * time.Second / time.Microsecond), int64(4 * time.Minute / time.Microsecond), int64(15 * time.Minute / time.Microsecond), int64(3 * time.Hour / time.Microsecond), math.MaxInt64}
	spaceLevels = [...]float64{0.05, 0.5, 5}
)

const maxCellsPerSide = 4

type cellList struct {
	key   uint64
	slots []cellEntry // sorted by time
	at    int         // index in Engine.cells
}

// cellEntry is an observation filed in a cell, with its time in whole
// seconds from the Engine's epoch (rounded down, clamped), so that searching
// a cell does not touch the observations. Searches on it are conservative:
// they return a superset of the observations in a range of times.
type cellEntry struct {
	t int32
	s int32
}

// sec returns the time t (µs) as the seconds of a cellEntry.
func (e *Engine) sec(t int64) int32 {
	d := t - e.epoch
	if d < 0 {
		d -= 1e6 - 1 // round down
	}
	return int32(min(max(d/1e6, math.MinInt32), math.MaxInt32))
}

// cellSearch returns the index of the first entry of l at second t or later.
func cellSearch(l []cellEntry, t int32) int {
	lo, hi := 0, len(l)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if l[m].t < t {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

func cellKey(tl, sl int, lat, lon int64) uint64 {
	return uint64(tl)<<44 | uint64(sl)<<40 | uint64(lat+1<<19)<<20 | uint64(lon+1<<19)
}

// extent returns a box containing everything o can be compatible with at
// its own side: the disc of spaceK × CEP, or the polygon of its wedge,
// with a margin for the bulge of geodesics.
func (e *Engine) extent(o *obs) geo.Rect {
	if o.flags&fObserver == 0 {
		p := pointOf(o.v)
		r := spaceK * o.a
		return geo.Rect{MinLat: p.Lat, MinLon: p.Lon, MaxLat: p.Lat, MaxLon: p.Lon}.Expand(r*1.01 + 10)
	}
	var buf [wedgeArc + 3]vec
	r := geo.EmptyRect()
	for _, v := range e.wedgeCorners(o, buf[:0]) {
		r = r.Extend(pointOf(v))
	}
	return r.Expand(o.c*0.01 + 10)
}

func cellRange(r geo.Rect, size float64) (lat0, lat1, lon0, lon1 int64) {
	return int64(math.Floor(r.MinLat / size)), int64(math.Floor(r.MaxLat / size)),
		int64(math.Floor(r.MinLon / size)), int64(math.Floor(r.MaxLon / size))
}

// level returns the grid o is filed in.
func (e *Engine) level(o *obs, r geo.Rect) (tl, sl int) {
	reach := o.u + e.gateOf(o)
	for tl = 0; reach > timeLevels[tl]; tl++ {
	}
	for sl = 0; sl < len(spaceLevels)-1; sl++ {
		a, b, c, d := cellRange(r, spaceLevels[sl])
		if b-a < maxCellsPerSide && d-c < maxCellsPerSide {
			break
		}
	}
	return tl, sl
}

func (e *Engine) gridInsert(s int32, r geo.Rect) {
	o := e.at(s)
	tl, sl := e.level(o, r)
	e.gridN[tl][sl]++
	e.reach[tl] = max(e.reach[tl], o.u+e.gateOf(o))
	a, b, c, d := cellRange(r, spaceLevels[sl])
	for lat := a; lat <= b; lat++ {
		for lon := c; lon <= d; lon++ {
			k := cellKey(tl, sl, lat, lon)
			cl := e.grid[k]
			if cl == nil {
				cl = &cellList{key: k, at: len(e.cells)}
				e.grid[k] = cl
				e.cells = append(e.cells, cl)
			}
			i, ts := len(cl.slots), e.sec(o.t)
			for i > 0 && cl.slots[i-1].t > ts { // usually at the end
				i--
			}
			cl.slots = slices.Insert(cl.slots, i, cellEntry{ts, s})
		}
	}
}

func (e *Engine) gridRemove(s int32) {
	o := e.at(s)
	r := e.extent(o)
	tl, sl := e.level(o, r)
	e.gridN[tl][sl]--
	a, b, c, d := cellRange(r, spaceLevels[sl])
	for lat := a; lat <= b; lat++ {
		for lon := c; lon <= d; lon++ {
			k := cellKey(tl, sl, lat, lon)
			cl := e.grid[k]
			i := cellSearch(cl.slots, e.sec(o.t))
			for cl.slots[i].s != s {
				i++
			}
			cl.slots = slices.Delete(cl.slots, i, i+1)
			if len(cl.slots) == 0 {
				last := e.cells[len(e.cells)-1]
				last.at = cl.at
				e.cells[cl.at] = last
				e.cells = e.cells[:len(e.cells)-1]
				delete(e.grid, k)
			} else if cap(cl.slots) > 32 && len(cl.slots) < cap(cl.slots)/4 {
				cl.slots = slices.Clip(cl.slots)
			}
		}
	}
}

// candidates calls f for every observation of the window, other than s,
// that the index cannot rule out as compatible with s.
func (e *Engine) candidates(s int32, r geo.Rect, f func(y int32)) {
	x := e.at(s)
	e.nextStamp()
	x.stamp = e.stamp
	reach := x.u + e.gateOf(x)
	visit := func(cl *cellList, lo, hi int32) {
		l := cl.slots
		for i := cellSearch(l, lo); i < len(l) && l[i].t <= hi; i++ {
			y := l[i].s
			if o := e.at(y); o.stamp != e.stamp {
				o.stamp = e.stamp
				f(y)
			}
		}
	}
	for tl := range timeLevels {
		for sl := range spaceLevels {
			if e.gridN[tl][sl] == 0 {
				continue
			}
			lo, hi := e.sec(x.t-reach-e.reach[tl]), e.sec(x.t+reach+e.reach[tl])
			a, b, c, d := cellRange(r, spaceLevels[sl])
			if (b-a+1)*(d-c+1) > int64(len(e.cells)) {
				for _, cl := range e.cells {
					if int(cl.key>>44) == tl && int(cl.key>>40&0xf) == sl {
						lat, lon := int64(cl.key>>20&0xfffff)-1<<19, int64(cl.key&0xfffff)-1<<19
						if lat >= a && lat <= b && lon >= c && lon <= d {
							visit(cl, lo, hi)
						}
					}
				}
				continue
			}
			for lat := a; lat <= b; lat++ {
				for lon := c; lon <= d; lon++ {
					if cl := e.grid[cellKey(tl, sl, lat, lon)]; cl != nil {
						visit(cl, lo, hi)
					}
				}
			}
		}
	}
}

func (e *Engine) nextStamp() {
	e.stamp++
	if e.stamp == 0 { // wrapped: clear every mark
		for i := range e.nslots {
			e.at(i).stamp = 0
		}
		e.stamp = 1
	}
}
