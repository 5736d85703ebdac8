package fuse

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"

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

	grid  map[uint64]*cellList
	cells []*cellList
	gridN [len(timeLevels)][len(spaceLevels)]int
	reach [len(timeLevels)]int64
	stamp uint32

	newest, cutoff int64 // µs; cutoff: observations before it have left
	hasCutoff      bool
	batch          bool // Fuse: no index, no incremental summaries
	bigAt          int32

	srcs      interned[srcKey]
	markKeys  interned[string]
	marks     []truce.Marking
	cats      interned[truce.Category]
	catInfos  []catInfo
	catCompat [][]bool
	weapons   interned[truce.WeaponClass]
	methodIdx interned[truce.Method]
	methods   []methodInfo
	parties   interned[string]
}

// New returns an Engine with an empty window.
func New(cfg Config) *Engine {
	e := &Engine{cfg: cfg, big: map[int32]*summary{}, grid: map[uint64]*cellList{}, bigAt: bigAt, newest: math.MinInt64}
	e.cfg.TimeGate = cloneMap(cfg.TimeGate)
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
	oa.next, ob.next = ob.next, oa.next // splice the member lists
	return a
}

// summaryOf returns the summary of root r and its members' references.
func (e *Engine) summaryOf(r int32) (*summary, []truce.ObservationRef) {
	if s := e.big[r]; s != nil {
		return s, s.refs
	}
	s := e.summarise(r)
	return s, s.refs
}

// summarise summarises the members of root r from scratch.
func (e *Engine) summarise(r int32) *summary {
	s := newSummary()
	s.refs = make([]truce.ObservationRef, 0, e.at(r).size)
	e.members(r, func(_ int32, o *obs) {
		e.addTo(s, o, false)
		s.refs = append(s.refs, e.ref(o))
	})
	slices.SortFunc(s.refs, func(a, b truce.ObservationRef) int { return cmp.Compare(a.ID, b.ID) })
	return s
}

func (e *Engine) incidentOf(r int32) truce.Incident {
	s, refs := e.summaryOf(r)
	return e.incident(s, refs)
}

// idOf returns the id of the incident of root r.
func (e *Engine) idOf(r int32) string {
	if s := e.big[r]; s != nil {
		return incidentID(s.minKey)
	}
	k := uint64(math.MaxUint64)
	e.members(r, func(_ int32, o *obs) { k = min(k, o.key) })
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
// changed (full current state, sorted by ID) and the IDs of incidents that
// ceased to exist because it merged them into another or renamed them.
// An observation older than the window's cutoff is too late to fuse: it
// comes back as an incident of its own, already final.
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
	o.parent, o.next, o.size = s, s, 1
	r := e.extent(o)
	var roots []int32
	e.candidates(s, r, func(y int32) {
		ry := e.find(y)
		if slices.Contains(roots, ry) {
			return // linked already: the edge would change nothing
		}
		if e.compatible(e.at(s), e.at(y)) {
			roots = append(roots, ry)
		}
	})
	for _, ry := range roots {
		gone = append(gone, e.idOf(ry))
	}
	root := s
	for _, ry := range roots {
		root = e.union(root, ry)
	}
	e.gridInsert(s, r)
	inc := e.incidentOf(root)
	gone = slices.DeleteFunc(gone, func(id string) bool { return id == inc.ID })
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
	return []truce.Incident{inc}, gone
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
	for _, cl := range e.cells {
		for _, s := range cl.slots {
			o := e.at(s)
			if o.t >= cut {
				break
			}
			r := e.find(s)
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
// window, no horizon) and summarises each incident from its members.
func Fuse(cfg Config, inputs []Input) []truce.Incident {
	e := New(cfg)
	e.batch = true
	order := make([]int32, len(inputs))
	var maxReach int64
	for i, in := range inputs {
		s := e.alloc()
		o := e.at(s)
		*o = e.prep(in)
		o.parent, o.next, o.size = s, s, 1
		order[i] = s
		maxReach = max(maxReach, o.u+e.methods[o.method].gate)
	}
	slices.SortFunc(order, func(a, b int32) int {
		if ta, tb := e.at(a).t, e.at(b).t; ta != tb {
			if ta < tb {
				return -1
			}
			return 1
		}
		return int(a - b)
	})
	for i, a := range order {
		x := e.at(a)
		lim := x.t + x.u + e.methods[x.method].gate + maxReach
		for _, b := range order[i+1:] {
			y := e.at(b)
			if y.t > lim {
				break
			}
			if e.compatible(x, y) {
				e.union(e.find(a), e.find(b))
			}
		}
	}
	return e.Incidents()
}
