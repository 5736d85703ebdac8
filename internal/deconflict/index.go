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
// cell (a latitude/longitude square, an altitude layer and a span of time)
// that its bound, grown by half the largest margin, touches. Two volumes
// that may come within a margin of each other share a cell; a pair is
// considered only in the first cell they share, so nothing is seen twice.
// A cell lists compact entries that hold what the cheap tests need (time,
// altitude, box), so that scanning a cell reads memory in order; only the
// pairs that pass them are measured exactly. Not safe for concurrent
// writes; reads may run together.
type Index struct {
	grid
	vols  []Vol
	spans []span
	cells map[uint64][]entry
	free  []uint32
	live  int
}

// grid is the geometry of the cells and the margins pairs keep.
type grid struct {
	cellDeg float64
	bucket  int64 // microseconds
	halfH   float64
	halfT   int64
	halfV   float64
	maxDeg  float64          // the largest horizontal margin, in degrees of latitude
	maxT    int64            // the largest time margin
	margin  [4][4]pairMargin // by domain number
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
	CellDeg float64       // cell side in degrees (default 0.3, at least 0.05)
	Bucket  time.Duration // cell span in time (default 4 hours)
}

func newGrid(c *truce.Coalition, opt IndexOptions) grid {
	if opt.CellDeg <= 0 {
		opt.CellDeg = 0.3
	}
	// Cells are numbered in 13 bits of latitude and longitude.
	opt.CellDeg = max(opt.CellDeg, 0.05)
	if opt.Bucket <= 0 {
		opt.Bucket = 4 * time.Hour
	}
	g := grid{cellDeg: opt.CellDeg, bucket: opt.Bucket.Microseconds()}
	var maxM truce.Margin
	for _, m := range c.Margins {
		maxM = truce.Margin{Horizontal: max(maxM.Horizontal, m.Horizontal), Vertical: max(maxM.Vertical, m.Vertical), Time: max(maxM.Time, m.Time)}
	}
	doms := []truce.Domain{"", truce.DomainLand, truce.DomainSea, truce.DomainAir}
	for i, a := range doms {
		for j, b := range doms {
			m := c.Margin(a, b)
			g.margin[i][j] = pairMargin{h: m.Horizontal, v: m.Vertical, t: m.Time.Microseconds(), dlat: m.Horizontal / metresPerDegree}
		}
	}
	g.halfH = maxM.Horizontal / 2
	g.halfT = maxM.Time.Microseconds() / 2
	g.halfV = maxM.Vertical / 2
	g.maxDeg = maxM.Horizontal / metresPerDegree
	g.maxT = maxM.Time.Microseconds()
	return g
}

// NewIndex returns an empty index whose pairs keep the coalition's margins.
func NewIndex(c *truce.Coalition, opt IndexOptions) *Index {
	return &Index{grid: newGrid(c, opt), cells: map[uint64][]entry{}}
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

func (g *grid) spanOf(v *Vol) span {
	b := v.Bound.Expand(g.halfH)
	return span{
		lat0: g.cell(b.MinLat + 90), lat1: g.cell(b.MaxLat + 90),
		lon0: g.cell(b.MinLon + 180), lon1: g.cell(b.MaxLon + 180),
		a0: altLayer(v.MinAlt - g.halfV), a1: altLayer(v.MaxAlt + g.halfV),
		t0: floorDiv(v.From-g.halfT, g.bucket), t1: floorDiv(v.Until-1+g.halfT, g.bucket),
	}
}

func altLayer(alt float64) int32 {
	return int32(min(max(math.Floor((alt-MinAltitude)/layer), 0), maxLayer))
}

func (g *grid) cell(deg float64) int32 { return int32(math.Floor(deg / g.cellDeg)) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// cellKey is a cell's coordinates: time bucket, altitude layer, latitude
// and longitude cells.
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

// entry is a volume as a cell lists it: what the cheap tests read, inline.
type entry struct {
	from, until    int64
	minLat, minLon float32 // the bound, rounded outwards
	maxLat, maxLon float32
	minAlt, maxAlt float32 // rounded outwards
	kx             float32 // degrees of longitude per degree of latitude near the box
	id             uint32
	t0             int32 // the first cell of the volume's span
	lat0, lon0     int32
	a0             int8
	dom            uint8
}

func down(x float64) float32 { return math.Nextafter32(float32(x), float32(math.Inf(-1))) }
func up(x float64) float32   { return math.Nextafter32(float32(x), float32(math.Inf(1))) }

func (g *grid) entryOf(id uint32, v *Vol, s *span) entry {
	far := max(math.Abs(v.Bound.MinLat), math.Abs(v.Bound.MaxLat)) + g.maxDeg
	kx := float32(math.Inf(1))
	if far < 89 {
		kx = up(1 / math.Cos(far*math.Pi/180))
	}
	return entry{from: v.From, until: v.Until,
		minLat: down(v.Bound.MinLat), minLon: down(v.Bound.MinLon), maxLat: up(v.Bound.MaxLat), maxLon: up(v.Bound.MaxLon),
		minAlt: down(v.MinAlt), maxAlt: up(v.MaxAlt), kx: kx,
		id: id, t0: int32(s.t0), a0: int8(s.a0), dom: domainNumber(v.Domain), lat0: s.lat0, lon0: s.lon0}
}

// first reports whether c is the first cell both entries' spans touch: a
// pair is considered there and nowhere else.
func first(c cellKey, a, b *entry) bool {
	return int64(max(a.t0, b.t0)) == c.t && int32(max(a.a0, b.a0)) == c.a && int32(max(a.lat0, b.lat0)) == c.la && int32(max(a.lon0, b.lon0)) == c.lo
}

// cheap reports whether a and b may come within their margins: their
// times, altitudes and boxes, grown by the margins, overlap.
func (g *grid) cheap(a, b *entry) bool {
	m := &g.margin[a.dom][b.dom]
	if a.from >= b.until+m.t || b.from >= a.until+m.t {
		return false
	}
	if float64(a.minAlt) > float64(b.maxAlt)+m.v || float64(b.minAlt) > float64(a.maxAlt)+m.v {
		return false
	}
	if float64(a.minLat) > float64(b.maxLat)+m.dlat || float64(b.minLat) > float64(a.maxLat)+m.dlat {
		return false
	}
	dlon := m.dlat * float64(a.kx)
	return !(float64(a.minLon) > float64(b.maxLon)+dlon || float64(b.minLon) > float64(a.maxLon)+dlon)
}

// exact reports whether the two volumes' shapes come within the margin.
func (g *grid) exact(a, b *Vol) bool {
	return a.Shape.Within(b.Shape, g.margin[domainNumber(a.Domain)][domainNumber(b.Domain)].h)
}

// Len returns the number of volumes held.
func (x *Index) Len() int { return x.live }

// Add lists v and returns its id.
func (x *Index) Add(v Vol) uint32 {
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
	s := &x.spans[id]
	e := x.entryOf(id, &v, s)
	s.each(func(c cellKey) {
		k := c.pack()
		x.cells[k] = append(x.cells[k], e)
	})
	return id
}

// Remove drops volume id.
func (x *Index) Remove(id uint32) {
	x.spans[id].each(func(c cellKey) {
		k := c.pack()
		es := x.cells[k]
		if i := slices.IndexFunc(es, func(e entry) bool { return e.id == id }); i >= 0 {
			es[i] = es[len(es)-1]
			es = es[:len(es)-1]
		}
		if len(es) == 0 {
			delete(x.cells, k)
		} else {
			x.cells[k] = es
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
	s := x.spanOf(q)
	eq := x.entryOf(math.MaxUint32, q, &s)
	stop := false
	s.each(func(c cellKey) {
		if stop {
			return
		}
		es := x.cells[c.pack()]
		for i := range es {
			e := &es[i]
			if !first(c, &eq, e) || !x.cheap(&eq, e) {
				continue
			}
			if v := &x.vols[e.id]; x.exact(q, v) && !fn(e.id, v) {
				stop = true
				return
			}
		}
	})
}

// Pairs returns every pair of volumes held that come within their margins
// of each other, excluding pairs of one owner, using every core. The order
// is not specified.
func (x *Index) Pairs() [][2]uint32 {
	ids := make([]uint32, 0, x.live)
	vols := make([]Vol, 0, x.live)
	for id := range x.vols {
		if x.vols[id].Shape != nil {
			ids = append(ids, uint32(id))
			vols = append(vols, x.vols[id])
		}
	}
	pairs := pairsOf(&x.grid, vols)
	for i, p := range pairs {
		pairs[i] = [2]uint32{ids[p[0]], ids[p[1]]}
	}
	return pairs
}

// Pairs returns every pair of vols (as indexes) that come within the
// coalition's margins of each other, excluding pairs of one owner, using
// every core; the order is not specified. It builds a grid for the batch
// in one pass (a counting sort of the cells' entries), not an Index.
func Pairs(c *truce.Coalition, opt IndexOptions, vols []Vol) [][2]uint32 {
	g := newGrid(c, opt)
	return pairsOf(&g, vols)
}

func pairsOf(g *grid, vols []Vol) [][2]uint32 {
	if len(vols) < 2 {
		return nil
	}
	workers := runtime.GOMAXPROCS(0)
	// Visit the volumes in order of start, so that each cell's entries
	// are in order of start and a scan can stop early.
	order := make([]uint32, len(vols))
	for i := range order {
		order[i] = uint32(i)
	}
	slices.SortFunc(order, func(a, b uint32) int { return cmpInt64(vols[a].From, vols[b].From) })
	// Spans and entries, on every core.
	spans := make([]span, len(vols))
	ents := make([]entry, len(vols))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(vols); i += workers {
				spans[i] = g.spanOf(&vols[i])
				ents[i] = g.entryOf(uint32(i), &vols[i], &spans[i])
			}
		})
	}
	wg.Wait()
	lo := span{lat0: math.MaxInt32, lon0: math.MaxInt32, a0: math.MaxInt32, t0: math.MaxInt64}
	hi := span{lat1: math.MinInt32, lon1: math.MinInt32, a1: math.MinInt32, t1: math.MinInt64}
	for i := range spans {
		s := &spans[i]
		lo.lat0, lo.lon0, lo.a0, lo.t0 = min(lo.lat0, s.lat0), min(lo.lon0, s.lon0), min(lo.a0, s.a0), min(lo.t0, s.t0)
		hi.lat1, hi.lon1, hi.a1, hi.t1 = max(hi.lat1, s.lat1), max(hi.lon1, s.lon1), max(hi.a1, s.a1), max(hi.t1, s.t1)
	}
	nLat, nLon, nA := int64(hi.lat1-lo.lat0+1), int64(hi.lon1-lo.lon0+1), int64(hi.a1-lo.a0+1)
	nCells := nLat * nLon * nA * (hi.t1 - lo.t0 + 1)
	if nCells > 1<<27 {
		// A batch spread too wide for a dense grid: use the index.
		x := &Index{grid: *g, cells: map[uint64][]entry{}}
		for _, v := range vols {
			x.Add(v)
		}
		return x.pairsOfCells()
	}
	// dense appends the numbers of the cells of s to buf.
	dense := func(s *span, buf []uint32) []uint32 {
		for t := s.t0; t <= s.t1; t++ {
			bt := (t - lo.t0) * nA
			for a := s.a0; a <= s.a1; a++ {
				ba := (bt + int64(a-lo.a0)) * nLat
				for la := s.lat0; la <= s.lat1; la++ {
					bl := (ba+int64(la-lo.lat0))*nLon - int64(lo.lon0)
					for lon := s.lon0; lon <= s.lon1; lon++ {
						buf = append(buf, uint32(bl+int64(lon)))
					}
				}
			}
		}
		return buf
	}
	// Count the entries of each cell, then place them (a counting sort,
	// stable, so each cell keeps the order of start).
	counts := make([]uint32, nCells+1)
	var buf []uint32
	for _, i := range order {
		buf = dense(&spans[i], buf[:0])
		for _, d := range buf {
			counts[d+1]++
		}
	}
	for i := 1; i < len(counts); i++ {
		counts[i] += counts[i-1]
	}
	// Cells list volumes by number: small enough to stay in cache while
	// they are placed; the entries themselves are read from ents.
	postings := make([]uint32, counts[nCells])
	next := slices.Clone(counts)
	for _, i := range order {
		buf = dense(&spans[i], buf[:0])
		for _, d := range buf {
			postings[next[d]] = i
			next[d]++
		}
	}
	// Scan the cells, a share each.
	out := make([][][2]uint32, workers)
	for w := range workers {
		wg.Go(func() {
			var found [][2]uint32
			for d := w; d < int(nCells); d += workers {
				es := postings[counts[d]:counts[d+1]]
				if len(es) < 2 {
					continue
				}
				// Recover the cell's coordinates from its number.
				n := int64(d)
				c := cellKey{lo: int32(n%nLon) + lo.lon0}
				n /= nLon
				c.la = int32(n%nLat) + lo.lat0
				n /= nLat
				c.a = int32(n%nA) + lo.a0
				c.t = n/nA + lo.t0
				found = scanCell(g, vols, ents, c, es, found)
			}
			out[w] = found
		})
	}
	wg.Wait()
	var all [][2]uint32
	for _, f := range out {
		all = append(all, f...)
	}
	return all
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// scanCell appends the pairs of one cell's volumes (numbers into vols and
// ents), which are in order of start: a volume's scan stops at the first
// that starts after it ends (with the largest time margin).
func scanCell(g *grid, vols []Vol, ents []entry, c cellKey, ids []uint32, found [][2]uint32) [][2]uint32 {
	maxT := g.maxT
	for i, ia := range ids {
		a := &ents[ia]
		for _, ib := range ids[i+1:] {
			b := &ents[ib]
			if b.from >= a.until+maxT {
				break
			}
			if !first(c, a, b) || !g.cheap(a, b) {
				continue
			}
			va, vb := &vols[ia], &vols[ib]
			if va.Owner == vb.Owner || !g.exact(va, vb) {
				continue
			}
			found = append(found, [2]uint32{min(ia, ib), max(ia, ib)})
		}
	}
	return found
}

// pairsOfCells is Pairs over the index's own cells, whose entries are in
// no particular order.
func (x *Index) pairsOfCells() [][2]uint32 {
	ents := make([]entry, len(x.vols))
	var all [][2]uint32
	for k, es := range x.cells {
		c := cellKey{t: int64(k >> 32), a: int32(k >> 26 & maxLayer), la: int32(k >> 13 & coordMask), lo: int32(k & coordMask)}
		ids := make([]uint32, len(es))
		for i := range es {
			ents[es[i].id] = es[i]
			ids[i] = es[i].id
		}
		slices.SortFunc(ids, func(a, b uint32) int { return cmpInt64(ents[a].from, ents[b].from) })
		all = scanCell(&x.grid, x.vols, ents, c, ids, all)
	}
	return all
}
