package fuse

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// Input is one observation to fuse.
type Input struct {
	ID          uint64      // the observation's journal sequence number
	Org         truce.OrgID // who recorded it
	Observation truce.Observation
}

// Config sets how fusion gates reports.
type Config struct {
	// TimeGate is how far apart in time two reports of one event may be
	// (beyond their time uncertainties), by the looser method of the pair.
	TimeGate map[truce.Method]time.Duration
	// BearingError is the 1-sigma bearing error in degrees of observer
	// reports, by method.
	BearingError map[truce.Method]float64
	// StateGate is how far apart in time two sightings of something that
	// stays where it is (weapon_sighting, military_presence) may be and
	// still be one event, whatever their methods' gates: a battery seen by a
	// UAV and seen again by the next one half an hour later is one sighting.
	StateGate time.Duration
	// Horizon is how late a report may arrive and still fuse: observations
	// older than the newest time minus Horizon leave the window. Zero or
	// less keeps everything until Expire.
	Horizon time.Duration
}

// Fallbacks for a method Config does not name.
const (
	fallbackGate    = 10 * time.Minute
	fallbackBearing = 10.0
)

// DefaultConfig returns the default gates: 10 s for acoustic sensors,
// cameras and radars, 3 min for what monitors heard or saw, 10 min for
// UAV and satellite imagery, 2 h for party reports and open sources; and
// bearing errors of 1° (acoustic, camera, satellite), 0.5° (radar), 2°
// (UAV), 5° (heard), 3° (seen), 10° (party reports, open sources).
func DefaultConfig() Config {
	return Config{
		StateGate: 2 * time.Hour,
		TimeGate: map[truce.Method]time.Duration{
			truce.MethodAcoustic:    10 * time.Second,
			truce.MethodCamera:      10 * time.Second,
			truce.MethodRadar:       10 * time.Second,
			truce.MethodUAV:         10 * time.Minute,
			truce.MethodSatellite:   10 * time.Minute,
			truce.MethodHeard:       3 * time.Minute,
			truce.MethodSeen:        3 * time.Minute,
			truce.MethodPartyReport: 2 * time.Hour,
			truce.MethodOSINT:       2 * time.Hour,
		},
		BearingError: map[truce.Method]float64{
			truce.MethodAcoustic:    1,
			truce.MethodCamera:      1,
			truce.MethodRadar:       0.5,
			truce.MethodUAV:         2,
			truce.MethodSatellite:   1,
			truce.MethodHeard:       5,
			truce.MethodSeen:        3,
			truce.MethodPartyReport: 10,
			truce.MethodOSINT:       10,
		},
		Horizon: 6 * time.Hour,
	}
}

func (c *Config) info(m truce.Method) methodInfo {
	g, ok := c.TimeGate[m]
	if !ok {
		g = fallbackGate
	}
	b, ok := c.BearingError[m]
	if !ok || !(b > 0) {
		b = fallbackBearing
	}
	return methodInfo{name: m, gate: max(int64(g/time.Microsecond), 0), sigma: b * math.Pi / 180}
}

// bigAt is the size from which an incident keeps its summary (and its list
// of observation references) up to date incrementally; smaller incidents
// are summarised from their members when asked.
const bigAt = 8

const chunkBits = 12

// Engine fuses a stream of observations incrementally, over a window of
// recent ones. It is not safe for concurrent use: one goroutine feeds it.
type Engine struct {
	cfg Config

	chunks [][]obs // slab of observations, 1<<chunkBits a chunk
	nslots int32
	free   []int32
	live   int

	big map[int32]*summary // summaries of incidents of bigAt members or more, by root

	// pend lists, by root, the weak reports compatible with a strong
	// member of that incident but attached to another (of better rank), as
	// gen<<32 | slot: if the incident's rank improves they may move to it.
	// Entries whose slot was reused since (another gen) are stale.
	pend  map[int32][]uint64
	gens  uint32
	roots []int32 // scratch
	hits  []int32 // scratch

	grid  map[uint64]*cellList
	cells []*cellList
	gridN [len(timeLevels)][len(spaceLevels)]int
	reach [len(timeLevels)]int64
	stamp uint32

	newest, cutoff int64 // µs; cutoff: observations before it have left
	epoch          int64 // µs: the time of the first observation (see cellEntry)
	hasCutoff      bool
	batch          bool // Fuse: no index, no incremental summaries
	bigAt          int32

	srcs      interned[srcKey]
	markKeys  interned[string]
	marks     []truce.Marking
	cats      interned[truce.Category]
	catInfos  []catInfo
	catCompat [][]bool
	stateGate int64 // µs, see Config.StateGate
	weapons   interned[truce.WeaponClass]
	methodIdx interned[truce.Method]
	methods   []methodInfo
	parties   interned[string]
}

// New returns an Engine with an empty window.
func New(cfg Config) *Engine {
	e := &Engine{cfg: cfg, big: map[int32]*summary{}, pend: map[int32][]uint64{}, grid: map[uint64]*cellList{}, bigAt: bigAt, newest: math.MinInt64}
	e.cfg.TimeGate = cloneMap(cfg.TimeGate)
	e.stateGate = max(int64(cfg.StateGate/time.Microsecond), 0)
	e.cfg.BearingError = cloneMap(cfg.BearingError)
	// index 0 of every table means "none"
	e.srcs.id(srcKey{})
	e.marks = []truce.Marking{{}}
	e.cats.id("")
	e.weapons.id("")
	e.methodIdx.id("")
	e.methods = []methodInfo{e.cfg.info("")}
	e.parties.id("")
	e.catInfoOf(0)
	return e
}

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	c := make(map[K]V, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func (e *Engine) at(s int32) *obs { return &e.chunks[s>>chunkBits][s&(1<<chunkBits-1)] }

func (e *Engine) alloc() int32 {
	e.live++
	if n := len(e.free); n > 0 {
		s := e.free[n-1]
		e.free = e.free[:n-1]
		return s
	}
	s := e.nslots
	if int(s>>chunkBits) == len(e.chunks) {
		e.chunks = append(e.chunks, make([]obs, 1<<chunkBits))
	}
	e.nslots++
	return s
}

func (e *Engine) release(s int32) {
	*e.at(s) = obs{}
	e.free = append(e.free, s)
	e.live--
}

func (e *Engine) find(s int32) int32 {
	for {
		o := e.at(s)
		if o.parent == s {
			return s
		}
		p := e.at(o.parent)
		o.parent = p.parent // path halving
		s = p.parent
	}
}

// members calls f for every member of the incident of root r.
func (e *Engine) members(r int32, f func(s int32, o *obs)) {
	s := r
	for {
		o := e.at(s)
		f(s, o)
		s = o.next
		if s == r {
			return
		}
	}
}

// union merges the incidents of roots a and b and returns the new root.
func (e *Engine) union(a, b int32) int32 {
	if a == b {
		return a
	}
	oa, ob := e.at(a), e.at(b)
	if oa.size < ob.size || oa.size == ob.size && a > b {
		a, b, oa, ob = b, a, ob, oa
	}
	if !e.batch {
		sa, sb := e.big[a], e.big[b]
		switch {
		case sa != nil && sb != nil:
			e.merge(sa, sb)
			delete(e.big, b)
		case sa != nil:
			e.merge(sa, e.summarise(b))
		case oa.size+ob.size >= e.bigAt:
			s := e.summarise(a)
			if sb != nil {
				e.merge(s, sb)
				delete(e.big, b)
			} else {
				e.merge(s, e.summarise(b))
			}
			e.big[a] = s
		}
	}
	ob.parent = a
	oa.size += ob.size
	e.splice(a, b)
	return a
}

// splice joins the circular member lists through a and through b.
func (e *Engine) splice(a, b int32) {
	oa, ob := e.at(a), e.at(b)
	an, bn := oa.next, ob.next
	oa.next, e.at(bn).prev = bn, a
	ob.next, e.at(an).prev = an, b
}

// attach makes weak report w (an incident alone until now) a member of
// the incident of root r.
func (e *Engine) attach(w, r int32) {
	ow, or := e.at(w), e.at(r)
	ow.parent = r
	or.size++
	e.splice(r, w)
	if e.batch {
		return
	}
	if s := e.big[r]; s != nil {
		e.addTo(s, ow, true)
	} else if or.size >= e.bigAt {
		e.big[r] = e.summarise(r)
	}
}

// detach takes weak report w out of the incident of root r, leaving it an
// incident alone.
func (e *Engine) detach(w, r int32) {
	ow, or := e.at(w), e.at(r)
	e.at(ow.prev).next = ow.next
	e.at(ow.next).prev = ow.prev
	ow.parent, ow.next, ow.prev = w, w, w
	or.size--
	if e.big[r] != nil {
		if or.size >= e.bigAt {
			e.big[r] = e.summarise(r) // summaries do not subtract
		} else {
			delete(e.big, r)
		}
	}
}

// rankOf returns the rank of the incident of root r: the least (key, id)
// of its strong members. Of the incidents a weak report is compatible
// with, it joins the one of least rank.
func (e *Engine) rankOf(r int32) (key, id uint64) {
	if s := e.big[r]; s != nil {
		return s.sKey, s.sID
	}
	key, id = math.MaxUint64, math.MaxUint64
	e.members(r, func(_ int32, o *obs) {
		if o.flags&fWeak == 0 && rankLess(o.key, o.id, key, id) {
			key, id = o.key, o.id
		}
	})
	return key, id
}

func (e *Engine) pendEntry(w int32) uint64 { return uint64(e.at(w).gen)<<32 | uint64(uint32(w)) }

// pendSlot returns the slot of a pend entry, or -1 when it is stale.
func (e *Engine) pendSlot(p uint64) int32 {
	w := int32(uint32(p))
	if w >= e.nslots {
		return -1
	}
	if o := e.at(w); o.flags&fLive == 0 || o.gen != uint32(p>>32) {
		return -1
	}
	return w
}

// pendAdd records that weak report w is compatible with the incident of
// root r without being a member.
func (e *Engine) pendAdd(r, w int32) {
	p := e.pendEntry(w)
	l := e.pend[r]
	if !slices.Contains(l, p) {
		e.pend[r] = append(l, p)
	}
}

// summarise summarises the members of root r from scratch.
func (e *Engine) summarise(r int32) *summary {
	s := newSummary()
	e.fill(s, r)
	return s
}

// fill adds the members of root r to the empty summary s, with their refs.
func (e *Engine) fill(s *summary, r int32) {
	s.refs = make([]truce.ObservationRef, 0, e.at(r).size)
	for m := r; ; {
		o := e.at(m)
		e.addTo(s, o, false)
		s.refs = append(s.refs, e.ref(o))
		if m = o.next; m == r {
			break
		}
	}
	slices.SortFunc(s.refs, func(a, b truce.ObservationRef) int { return cmp.Compare(a.ID, b.ID) })
}

func (e *Engine) incidentOf(r int32) truce.Incident {
	if s := e.big[r]; s != nil {
		return e.incident(s, s.refs)
	}
	s := emptySummary // on the stack: small incidents are summarised on demand
	e.fill(&s, r)
	return e.incident(&s, s.refs)
}

// idOf returns the id of the incident of root r.
func (e *Engine) idOf(r int32) string {
	if s := e.big[r]; s != nil {
		return incidentID(s.idKey())
	}
	if o := e.at(r); o.flags&fWeak != 0 {
		return incidentID(o.key) // a weak report alone
	}
	k, _ := e.rankOf(r)
	return incidentID(k)
}

// endOf returns the time of the latest member of the incident of root r.
func (e *Engine) endOf(r int32) int64 {
	if s := e.big[r]; s != nil {
		return s.maxT
	}
	t := int64(math.MinInt64)
	e.members(r, func(_ int32, o *obs) { t = max(t, o.t) })
	return t
}

// Add fuses one observation and returns the incidents it created or
// changed (full current state: first the incident the observation is now
// in, then, sorted by ID, any incident a weak report left to join it) and
// the IDs of incidents that ceased to exist because it merged them into
// another or renamed them, sorted. An observation older than the window's
// cutoff is too late to fuse: it comes back as an incident of its own,
// already final.
func (e *Engine) Add(in Input) (changed []truce.Incident, gone []string) {
	x := e.prep(in)
	if e.hasCutoff && x.t < e.cutoff {
		s := newSummary()
		e.addTo(s, &x, false)
		return []truce.Incident{e.incident(s, []truce.ObservationRef{e.ref(&x)})}, nil
	}
	s := e.alloc()
	o := e.at(s)
	*o = x
	e.gens++
	o.parent, o.next, o.prev, o.size, o.gen = s, s, s, 1, e.gens
	if e.gens == 1 {
		e.epoch = x.t
	}
	r := e.extent(o)
	var root int32
	var left []int32
	if x.flags&fWeak != 0 {
		root = e.addWeak(s, r)
	} else {
		root, gone, left = e.addStrong(s, r)
	}
	e.gridInsert(s, r)
	changed = make([]truce.Incident, 1, 1+len(left))
	changed[0] = e.incidentOf(root)
	for _, h := range left {
		changed = append(changed, e.incidentOf(h))
	}
	slices.SortFunc(changed[1:], func(a, b truce.Incident) int { return strings.Compare(a.ID, b.ID) })
	id := changed[0].ID
	gone = slices.DeleteFunc(gone, func(g string) bool { return g == id })
	slices.Sort(gone)
	gone = slices.Compact(gone)
	if len(gone) == 0 {
		gone = nil
	}
	e.newest = max(e.newest, x.t)
	if h := int64(e.cfg.Horizon / time.Microsecond); h > 0 {
		// expire in steps of a 32nd of the horizon, not on every report
		if c := e.newest - h; !e.hasCutoff || c-e.cutoff >= h/32 {
			e.expire(c)
		}
	}
	return changed, gone
}

// addWeak fuses weak report w (extent r) and returns its root: it joins
// the compatible incident of least rank, and is pending on the others; it
// never links incidents, nor another weak report.
func (e *Engine) addWeak(w int32, r geo.Rect) int32 {
	ow := e.at(w)
	roots := e.roots[:0]
	e.candidates(w, r, func(y int32) {
		oy := e.at(y)
		if oy.flags&fWeak != 0 {
			return
		}
		ry := e.find(y)
		if slices.Contains(roots, ry) {
			return // compatible with this incident already
		}
		if e.compatible(ow, oy) {
			roots = append(roots, ry)
		}
	})
	e.roots = roots
	if len(roots) == 0 {
		return w
	}
	best := roots[0]
	bk, bi := e.rankOf(best)
	for _, ry := range roots[1:] {
		if k, i := e.rankOf(ry); rankLess(k, i, bk, bi) {
			best, bk, bi = ry, k, i
		}
	}
	for _, ry := range roots {
		if ry != best {
			e.pendAdd(ry, w)
		}
	}
	e.attach(w, best)
	return best
}

// addStrong fuses strong report s (extent r): it merges the incidents it
// is compatible with, and draws the weak reports for which the merged
// incident is now the compatible one of least rank. It returns the root,
// the ids gone and the roots of the incidents weak reports left.
func (e *Engine) addStrong(s int32, r geo.Rect) (root int32, gone []string, left []int32) {
	os := e.at(s)
	roots, hits := e.roots[:0], e.hits[:0]
	e.candidates(s, r, func(y int32) {
		oy := e.at(y)
		if oy.flags&fWeak != 0 {
			if e.compatible(os, oy) {
				hits = append(hits, y)
			}
			return
		}
		ry := e.find(y)
		if slices.Contains(roots, ry) {
			return // linked already: the edge would change nothing
		}
		if e.compatible(os, oy) {
			roots = append(roots, ry)
		}
	})
	e.roots, e.hits = roots, hits
	type pendList struct {
		key, id uint64
		l       []uint64
	}
	var lists []pendList
	for _, ry := range roots {
		gone = append(gone, e.idOf(ry))
		if l := e.pend[ry]; l != nil {
			k, i := e.rankOf(ry)
			lists = append(lists, pendList{k, i, l})
			delete(e.pend, ry)
		}
	}
	root = s
	for _, ry := range roots {
		root = e.union(root, ry)
	}
	if len(lists) == 0 && len(hits) == 0 {
		return root, gone, nil
	}
	mk, mi := e.rankOf(root)
	var keep []uint64
	var recon []int32
	for _, pl := range lists {
		if pl.key == mk && pl.id == mi {
			keep = pl.l // the incident that gives its rank: nothing changes for them
			continue
		}
		for _, p := range pl.l {
			if w := e.pendSlot(p); w >= 0 {
				recon = append(recon, w)
			}
		}
	}
	recon = append(recon, hits...)
	for _, w := range recon {
		ow := e.at(w)
		if ow.parent == w { // alone: it joins
			gone = append(gone, incidentID(ow.key))
			e.attach(w, root)
			continue
		}
		h := e.find(w)
		if h == root {
			continue
		}
		if hk, hi := e.rankOf(h); rankLess(mk, mi, hk, hi) {
			e.detach(w, h)
			e.attach(w, root)
			e.pendAdd(h, w)
			if !slices.Contains(left, h) {
				left = append(left, h)
			}
			continue
		}
		if p := e.pendEntry(w); !slices.Contains(keep, p) {
			keep = append(keep, p)
		}
	}
	if len(keep) > 0 {
		e.pend[root] = keep
	}
	return root, gone, left
}

// Expire drops from the working window every incident whose latest
// observation is before cutoff, with all its observations: they become
// final, and Add no longer returns them. Observations before cutoff that
// belong to an incident with a later member stay until it goes. It returns
// how many observations were dropped. Observations before the cutoff that
// arrive later do not fuse (see Add).
func (e *Engine) Expire(cutoff time.Time) int { return e.expire(cutoff.UnixMicro()) }

func (e *Engine) expire(cut int64) int {
	if !e.hasCutoff || cut > e.cutoff {
		e.cutoff, e.hasCutoff = cut, true
	}
	e.nextStamp()
	var roots []int32
	cs := e.sec(cut)
	for _, cl := range e.cells {
		for _, c := range cl.slots {
			if c.t > cs {
				break
			}
			if e.at(c.s).t >= cut {
				continue
			}
			r := e.find(c.s)
			if ro := e.at(r); ro.stamp != e.stamp {
				ro.stamp = e.stamp
				if e.endOf(r) < cut {
					roots = append(roots, r)
				}
			}
		}
	}
	n := 0
	var drop []int32
	for _, r := range roots {
		drop = drop[:0]
		e.members(r, func(s int32, _ *obs) { drop = append(drop, s) })
		for _, s := range drop {
			e.gridRemove(s)
		}
		for _, s := range drop {
			e.release(s)
		}
		delete(e.big, r)
		delete(e.pend, r)
		n += len(drop)
	}
	return n
}

// Incidents returns the current incidents of the window, sorted by ID.
func (e *Engine) Incidents() []truce.Incident {
	var out []truce.Incident
	for s := range e.nslots {
		if o := e.at(s); o.flags&fLive != 0 && o.parent == s {
			out = append(out, e.incidentOf(s))
		}
	}
	slices.SortFunc(out, func(a, b truce.Incident) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Len returns the number of observations in the window.
func (e *Engine) Len() int { return e.live }

// Fuse is the batch reference: the incidents of a set of inputs, sorted by
// ID. It compares every pair of inputs close enough in time (no index, no
// window, no horizon), takes the connected components of the strong
// reports, attaches each weak report to the compatible component of least
// rank, and summarises each incident from its members.
func Fuse(cfg Config, inputs []Input) []truce.Incident {
	e := New(cfg)
	e.batch = true
	order := make([]int32, len(inputs))
	var maxReach int64
	for i, in := range inputs {
		s := e.alloc()
		o := e.at(s)
		*o = e.prep(in)
		o.parent, o.next, o.prev, o.size = s, s, s, 1
		order[i] = s
		maxReach = max(maxReach, o.u+e.gateOf(o))
	}
	slices.SortFunc(order, func(a, b int32) int {
		if ta, tb := e.at(a).t, e.at(b).t; ta != tb {
			return cmp.Compare(ta, tb)
		}
		return int(a - b)
	})
	var weakEdges [][2]int32 // weak, strong
	for i, a := range order {
		x := e.at(a)
		xw := x.flags&fWeak != 0
		lim := x.t + x.u + e.gateOf(x) + maxReach
		for _, b := range order[i+1:] {
			y := e.at(b)
			if y.t > lim {
				break
			}
			yw := y.flags&fWeak != 0
			if xw && yw || !e.compatible(x, y) {
				continue
			}
			switch {
			case !xw && !yw:
				e.union(e.find(a), e.find(b))
			case xw:
				weakEdges = append(weakEdges, [2]int32{a, b})
			default:
				weakEdges = append(weakEdges, [2]int32{b, a})
			}
		}
	}
	// the rank of every component, at its root
	type rank struct{ key, id uint64 }
	ranks := map[int32]rank{}
	for s := range e.nslots {
		if o := e.at(s); o.flags&fWeak == 0 {
			r := e.find(s)
			if k, ok := ranks[r]; !ok || rankLess(o.key, o.id, k.key, k.id) {
				ranks[r] = rank{o.key, o.id}
			}
		}
	}
	best := map[int32]int32{} // weak report → root of least rank
	for _, we := range weakEdges {
		w, r := we[0], e.find(we[1])
		if b, ok := best[w]; !ok || rankLess(ranks[r].key, ranks[r].id, ranks[b].key, ranks[b].id) {
			best[w] = r
		}
	}
	for w, r := range best { // attaching commutes: order does not matter
		e.attach(w, r)
	}
	return e.Incidents()
}
