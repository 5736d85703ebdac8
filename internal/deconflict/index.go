package deconflict

import (
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// Vol is one compiled 4D volume: its shape, altitude band and time window
// (Unix microseconds, half-open), with the domain and priority of its
// activity and where it came from.
type Vol struct {
	Shape          *geo.Shape
	Bound          geo.Rect
	MinAlt, MaxAlt float64
	From, Until    int64
	Domain         truce.Domain
	dom            uint8 // domainNumber(Domain), set by Add
	Priority       int
	Owner          int32 // the caller's number for the activity
	Index          int32 // the volume's index in its activity
}

// Compile makes a Vol of v.
func Compile(v truce.Volume) (Vol, error) {
	s, err := shapeOf(v.Footprint)
	if err != nil {
		return Vol{}, err
	}
	return Vol{Shape: s, Bound: s.Bound(), MinAlt: v.MinAlt, MaxAlt: v.MaxAlt,
		From: v.Period.From.UnixMicro(), Until: v.Period.Until.UnixMicro()}, nil
}

func shapeOf(f truce.Footprint) (*geo.Shape, error) {
	switch {
	case f.Circle != nil:
		return geo.CircleShape(*f.Circle)
	case f.Path != nil:
		return geo.CorridorShape(f.Path, f.HalfWidth)
	default:
		return geo.PolygonShape(f.Polygon)
	}
}

// Index is a space-time grid over volumes: each volume is listed in every
// cell (a latitude/longitude square and a span of time) that its bound,
// grown by half the largest margin, touches. Two volumes that may come
// within a margin of each other share a cell; a pair is considered only in
// the first cell they share, so nothing is seen twice. Not safe for
// concurrent writes; reads may run together.
type Index struct {
	cellDeg   float64
	bucket    int64 // microseconds
	halfH     float64
	halfT     int64
	halfV     float64
	vols      []Vol
	spans     []span
	cells     map[uint64][]uint32
	free      []uint32
	live      int
	coalition *truce.Coalition
	maxM      truce.Margin
	margin    [4][4]pairMargin // by domain number
}

// pairMargin is the margin two domains keep, in the units the checks use.
type pairMargin struct {
	h, v, dlat float64
	t          int64
}

// domainNumber numbers the domains for the margin table; 0 is unknown.
func domainNumber(d truce.Domain) uint8 {
	switch d {
	case truce.DomainLand:
		return 1
	case truce.DomainSea:
		return 2
	case truce.DomainAir:
		return 3
	}
	return 0
}

// IndexOptions tune an Index; zero values take the defaults.
type IndexOptions struct {
	CellDeg float64       // cell side in degrees (default 0.2)
	Bucket  time.Duration // cell span in time (default 2 hours)
}

// NewIndex returns an empty index whose pairs keep the coalitionn's margins.
func NewIndex(c *truce.Coalition, opt IndexOptions) *Index {
	if opt.CellDeg <= 0 {
		opt.CellDeg = 0.2
	}
	if opt.Bucket <= 0 {
		opt.Bucket = 2 * time.Hour
	}
	x := &Index{cellDeg: opt.CellDeg, bucket: opt.Bucket.Microseconds(), cells: map[uint64][]uint32{}, coalition: c}
	for _, m := range c.Margins {
		x.maxM = truce.Margin{Horizontal: max(x.maxM.Horizontal, m.Horizontal), Vertical: max(x.maxM.Vertical, m.Vertical), Time: max(x.maxM.Time, m.Time)}
	}
	doms := []truce.Domain{"", truce.DomainLand, truce.DomainSea, truce.DomainAir}
	for i, a := range doms {
		for j, b := range doms {
			m := c.Margin(a, b)
			x.margin[i][j] = pairMargin{h: m.Horizontal, v: m.Vertical, t: m.Time.Microseconds(), dlat: m.Horizontal / metresPerDegree}
		}
	}
	x.halfH = x.maxM.Horizontal / 2
	x.halfT = x.maxM.Time.Microseconds() / 2
	x.halfV = x.maxM.Vertical / 2
	return x
}

// span is the range of cells a volume touches: latitude, longitude,
// altitude layer and time bucket.
type span struct {
	lat0, lat1, lon0, lon1, a0, a1 int32
	t0, t1                         int64
}

const (
	metresPerDegree = geo.EarthRadius * math.Pi / 180
	// layer is the depth of an altitude layer in metres; layers start at
	// MinAltitude and the top one is open.
	layer     = 500.0
	maxLayer  = 63
	coordMask = 0x1fff
)

func (x *Index) spanOf(v *Vol) span {
	b := v.Bound.Expand(x.halfH)
	return span{
		lat0: x.cell(b.MinLat + 90), lat1: x.cell(b.MaxLat + 90),
		lon0: x.cell(b.MinLon + 180), lon1: x.cell(b.MaxLon + 180),
		a0: altLayer(v.MinAlt - x.halfV), a1: altLayer(v.MaxAlt + x.halfV),
		t0: floorDiv(v.From-x.halfT, x.bucket), t1: floorDiv(v.Until-1+x.halfT, x.bucket),
	}
}

func altLayer(alt float64) int32 {
	return int32(min(max(math.Floor((alt-MinAltitude)/layer), 0), maxLayer))
}

func (x *Index) cell(deg float64) int32 { return int32(math.Floor(deg / x.cellDeg)) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// cellKey packs a cell's coordinates: time bucket, altitude layer,
// latitude and longitude cells.
type cellKey struct {
	t         int64
	a, la, lo int32
}

func (c cellKey) pack() uint64 {
	return uint64(c.t)<<32 | uint64(c.a)<<26 | uint64(uint32(c.la)&coordMask)<<13 | uint64(uint32(c.lo)&coordMask)
}

// each calls fn for every cell of s.
func (s *span) each(fn func(c cellKey)) {
	for t := s.t0; t <= s.t1; t++ {
		for a := s.a0; a <= s.a1; a++ {
			for la := s.lat0; la <= s.lat1; la++ {
				for lo := s.lon0; lo <= s.lon1; lo++ {
					fn(cellKey{t, a, la, lo})
				}
			}
		}
	}
}

// first reports whether c is the first cell both spans touch: a pair is
// considered there and nowhere else.
func first(c cellKey, s, o *span) bool {
	return max(s.t0, o.t0) == c.t && max(s.a0, o.a0) == c.a && max(s.lat0, o.lat0) == c.la && max(s.lon0, o.lon0) == c.lo
}

// Len returns the number of volumes held.
func (x *Index) Len() int { return x.live }

// Vol returns volume id.
func (x *Index) Vol(id uint32) *Vol { return &x.vols[id] }

// Add lists v and returns its id.
func (x *Index) Add(v Vol) uint32 {
	v.dom = domainNumber(v.Domain)
	var id uint32
	if n := len(x.free); n > 0 {
		id, x.free = x.free[n-1], x.free[:n-1]
		x.vols[id] = v
		x.spans[id] = x.spanOf(&v)
	} else {
		id = uint32(len(x.vols))
		x.vols = append(x.vols, v)
		x.spans = append(x.spans, x.spanOf(&v))
	}
	x.live++
	x.spans[id].each(func(c cellKey) {
		k := c.pack()
		x.cells[k] = append(x.cells[k], id)
	})
	return id
}

// Remove drops volume id.
func (x *Index) Remove(id uint32) {
	x.spans[id].each(func(c cellKey) {
		k := c.pack()
		ids := x.cells[k]
		if i := slices.Index(ids, id); i >= 0 {
			ids[i] = ids[len(ids)-1]
			ids = ids[:len(ids)-1]
		}
		if len(ids) == 0 {
			delete(x.cells, k)
		} else {
			x.cells[k] = ids
		}
	})
	x.vols[id] = Vol{}
	x.free = append(x.free, id)
	x.live--
}

// Near calls fn for each volume held that comes within the pair's margins
// of q in time, altitude and space (exactly, on the sphere), once each.
// fn returns false to stop.
func (x *Index) Near(q *Vol, fn func(id uint32, v *Vol) bool) {
	q.dom = domainNumber(q.Domain)
	s := x.spanOf(q)
	stop := false
	s.each(func(c cellKey) {
		if stop {
			return
		}
		for _, id := range x.cells[c.pack()] {
			if !first(c, &s, &x.spans[id]) {
				continue
			}
			if v := &x.vols[id]; x.near(q, v) && !fn(id, v) {
				stop = true
				return
			}
		}
	})
}

// near reports whether a and b come within their margins of each other.
func (x *Index) near(a, b *Vol) bool {
	m := &x.margin[a.dom][b.dom]
	if a.From >= b.Until+m.t || b.From >= a.Until+m.t {
		return false
	}
	if a.MinAlt > b.MaxAlt+m.v || b.MinAlt > a.MaxAlt+m.v {
		return false
	}
	// Boxes: grow a's by the margin (in degrees of longitude at the
	// box's worst latitude).
	dlat := m.dlat
	if a.Bound.MinLat > b.Bound.MaxLat+dlat || b.Bound.MinLat > a.Bound.MaxLat+dlat {
		return false
	}
	far := max(math.Abs(a.Bound.MinLat), math.Abs(a.Bound.MaxLat)) + dlat
	dlon := 360.0
	if far < 89 {
		dlon = dlat / math.Cos(far*math.Pi/180)
	}
	if a.Bound.MinLon > b.Bound.MaxLon+dlon || b.Bound.MinLon > a.Bound.MaxLon+dlon {
		return false
	}
	return a.Shape.Within(b.Shape, m.h)
}

// Pairs returns every pair of volumes held that come within their margins
// of each other, excluding pairs of one owner, using every core. The order
// is not specified.
func (x *Index) Pairs() [][2]uint32 {
	keys := make([]uint64, 0, len(x.cells))
	for k := range x.cells {
		keys = append(keys, k)
	}
	workers := runtime.GOMAXPROCS(0)
	out := make([][][2]uint32, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var found [][2]uint32
			for i := w; i < len(keys); i += workers {
				k := keys[i]
				ids := x.cells[k]
				c := cellKey{t: int64(k >> 32), a: int32(k >> 26 & maxLayer), la: int32(k >> 13 & coordMask), lo: int32(k & coordMask)}
				for a, ida := range ids {
					va, sa := &x.vols[ida], &x.spans[ida]
					for _, idb := range ids[a+1:] {
						vb, sb := &x.vols[idb], &x.spans[idb]
						if va.Owner == vb.Owner || !firstMasked(c, sa, sb) {
							continue
						}
						if x.near(va, vb) {
							found = append(found, [2]uint32{ida, idb})
						}
					}
				}
			}
			out[w] = found
		}()
	}
	wg.Wait()
	var all [][2]uint32
	for _, f := range out {
		all = append(all, f...)
	}
	return all
}

// firstMasked is first for a cell decoded from its packed key, whose
// latitude and longitude cells are masked.
func firstMasked(c cellKey, s, o *span) bool {
	return max(s.t0, o.t0) == c.t && max(s.a0, o.a0) == c.a && max(s.lat0, o.lat0)&coordMask == c.la && max(s.lon0, o.lon0)&coordMask == c.lo
}
