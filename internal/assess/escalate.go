package assess

import (
	"cmp"
	"container/heap"
	"slices"
	"time"

	"github.com/truce-dev/truce/internal/truce"
)

// Change is a change of one sector's alert level, or of the
// renewed-aggression trigger.
type Change struct {
	At     time.Time
	Sector string // "" for the trigger
	// From and To are the sector's levels before and after (for a sector).
	From, To truce.Level
	// Scores are the sector's window scores at At, in the agreement's
	// window order (for a sector).
	Scores []float64
	// Trigger is non-nil for the renewed-aggression trigger: true when it
	// fires, false when it clears.
	Trigger *bool
	// Critical lists the CRITICAL sectors at At, in agreement order (for
	// the trigger).
	Critical []string
}

// An Escalator keeps each sector's alert level from the violations it is
// given. It is not safe for concurrent use.
//
// Each violation enters a sector's windows at its Time and leaves a window
// of duration D at Time+D; Advance evaluates the sectors at each of those
// instants in order, so every change is found at the instant it happens.
type Escalator struct {
	esc     truce.Escalation
	sectors []string
	byID    map[string]int
	weights [nSev]float64

	incidents map[string]*incidentRecs
	events    eventHeap
	seq       uint64

	started bool
	last    time.Time // the time of the last Advance (when started)
	state   state
}

const nSev = 4 // low, medium, high, critical

// record is one violation as the escalator counts it.
type record struct {
	sector int
	sev    int
	t      time.Time
	gone   bool // removed by Set: its pending events are void
	inc    *incidentRecs
	live   int // windows it may still be inside (its exits not yet passed)
}

type incidentRecs struct {
	id   string
	recs []*record
	live int // records with live > 0, or not yet entered
}

// event is a record entering every window (win < 0) or leaving window win.
type event struct {
	at  time.Time
	seq uint64 // insertion order, for a deterministic heap
	rec *record
	win int
}

type eventHeap []event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if c := h[i].at.Compare(h[j].at); c != 0 {
		return c < 0
	}
	return h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(event)) }
func (h *eventHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = event{} // drop the record, for the collector
	*h = old[:len(old)-1]
	return x
}

// state is every sector's counts and levels, and the trigger.
type state struct {
	counts    [][][nSev]int // [sector][window] violations by severity inside the window
	winLevel  [][]int       // [sector][window] level rank, with hysteresis
	level     []int         // [sector] rank: the highest over windows
	since     []time.Time   // [sector]
	dirty     map[int]bool  // sectors to evaluate at the next instant
	triggered bool
}

func (s *state) clone() state {
	c := state{
		counts:    make([][][nSev]int, len(s.counts)),
		winLevel:  make([][]int, len(s.winLevel)),
		level:     slices.Clone(s.level),
		since:     slices.Clone(s.since),
		dirty:     make(map[int]bool, len(s.dirty)),
		triggered: s.triggered,
	}
	for i := range s.counts {
		c.counts[i] = slices.Clone(s.counts[i])
		c.winLevel[i] = slices.Clone(s.winLevel[i])
	}
	for k := range s.dirty {
		c.dirty[k] = true
	}
	return c
}

// NewEscalator returns an Escalator for a's sectors and escalation
// thresholds, with every sector CALM since the agreement took effect.
func NewEscalator(a *truce.Agreement) *Escalator {
	e := &Escalator{
		esc:       a.Escalation,
		byID:      map[string]int{},
		incidents: map[string]*incidentRecs{},
	}
	for i, s := range severities {
		e.weights[i] = a.Escalation.SeverityWeights[s]
	}
	nw := len(a.Escalation.Windows)
	e.state = state{dirty: map[int]bool{}}
	for i, s := range a.Sectors {
		e.sectors = append(e.sectors, s.ID)
		e.byID[s.ID] = i
		e.state.counts = append(e.state.counts, make([][nSev]int, nw))
		e.state.winLevel = append(e.state.winLevel, make([]int, nw))
		e.state.level = append(e.state.level, 0)
		e.state.since = append(e.state.since, a.Effective.From)
	}
	return e
}

var severities = truce.Severities()

func sevIndex(s truce.Severity) int { return slices.Index(severities, s) }

// Set replaces the violations recorded for incident id; an empty slice
// removes them. Violations outside every sector, or of an unknown
// severity, count for no sector. A violation whose time is at or before
// the last Advance counts from that Advance on: the next Advance
// evaluates its sector as of the last Advance's time first.
func (e *Escalator) Set(incident string, vs []truce.Violation) {
	ir := e.incidents[incident]
	var keep []*record
	type key struct {
		sector, sev int
		t           time.Time
	}
	var want []key
	for _, v := range vs {
		sec, ok := e.byID[v.Sector]
		sv := sevIndex(v.Severity)
		if !ok || sv < 0 {
			continue
		}
		want = append(want, key{sec, sv, v.Time})
	}
	if ir != nil {
		// Keep the records that stay; remove the others.
		for _, r := range ir.recs {
			i := slices.IndexFunc(want, func(k key) bool { return k.sector == r.sector && k.sev == r.sev && k.t.Equal(r.t) })
			if i >= 0 {
				keep = append(keep, r)
				want = slices.Delete(want, i, i+1)
				continue
			}
			e.remove(r)
		}
	}
	if len(keep) == 0 && len(want) == 0 {
		if ir != nil {
			delete(e.incidents, incident)
		}
		return
	}
	if ir == nil {
		ir = &incidentRecs{id: incident}
		e.incidents[incident] = ir
	}
	ir.recs = keep
	ir.live = 0
	for _, r := range keep {
		if r.live > 0 || e.pending(r) {
			ir.live++
		}
	}
	for _, k := range want {
		r := &record{sector: k.sector, sev: k.sev, t: k.t, inc: ir}
		ir.recs = append(ir.recs, r)
		e.add(r)
		if r.live > 0 || e.pending(r) {
			ir.live++
		}
	}
	if ir.live == 0 {
		delete(e.incidents, incident) // nothing it holds can count any more
	}
}

// pending reports whether r has not entered its windows yet.
func (e *Escalator) pending(r *record) bool { return !e.started || r.t.After(e.last) }

// add schedules r, or, when it is late, counts it at once for the windows
// it is still inside.
func (e *Escalator) add(r *record) {
	if e.pending(r) {
		e.push(r.t, r, -1)
		return
	}
	for w, win := range e.esc.Windows {
		if exit := r.t.Add(win.Duration); exit.After(e.last) {
			e.state.counts[r.sector][w][r.sev]++
			r.live++
			e.push(exit, r, w)
			e.state.dirty[r.sector] = true
		}
	}
}

// remove voids r's pending events and uncounts it from the windows it is
// inside.
func (e *Escalator) remove(r *record) {
	r.gone = true
	if e.pending(r) {
		return
	}
	for w, win := range e.esc.Windows {
		if r.t.Add(win.Duration).After(e.last) {
			e.state.counts[r.sector][w][r.sev]--
			e.state.dirty[r.sector] = true
		}
	}
	r.live = 0
}

func (e *Escalator) push(at time.Time, r *record, win int) {
	e.seq++
	heap.Push(&e.events, event{at: at, seq: e.seq, rec: r, win: win})
}

// apply counts one event into s; it reports whether it counted.
func (e *Escalator) apply(s *state, ev event, real bool) bool {
	r := ev.rec
	if r.gone {
		return false
	}
	if ev.win < 0 {
		for w, win := range e.esc.Windows {
			s.counts[r.sector][w][r.sev]++
			if real {
				r.live++
				e.push(r.t.Add(win.Duration), r, w)
			}
		}
	} else {
		s.counts[r.sector][ev.win][r.sev]--
		if real {
			r.live--
			if r.live == 0 {
				ir := r.inc
				ir.live--
				if ir.live == 0 && e.incidents[ir.id] == ir {
					delete(e.incidents, ir.id)
				}
			}
		}
	}
	s.dirty[r.sector] = true
	return true
}

// Advance evaluates every sector as of now and returns what changed since
// the last Advance, in time order: at each instant in (last, now] where a
// violation enters or leaves a window, sector changes in agreement order,
// then the trigger. Sectors whose violations Set changed at or before the
// last Advance are evaluated first, as of the last Advance. A now before
// the last Advance is taken as the last Advance.
func (e *Escalator) Advance(now time.Time) []Change {
	var out []Change
	emit := func(c Change) { out = append(out, c) }
	if e.started {
		if now.Before(e.last) {
			now = e.last
		}
		e.evaluate(&e.state, e.last, emit)
	}
	for len(e.events) > 0 && !e.events[0].at.After(now) {
		at := e.events[0].at
		for len(e.events) > 0 && e.events[0].at.Equal(at) {
			e.apply(&e.state, heap.Pop(&e.events).(event), true)
		}
		e.evaluate(&e.state, at, emit)
	}
	e.started, e.last = true, now
	return out
}

// evaluate re-levels the dirty sectors of s at instant at, then the
// trigger, reporting changes through emit (when not nil).
func (e *Escalator) evaluate(s *state, at time.Time, emit func(Change)) {
	if len(s.dirty) == 0 {
		return
	}
	for sec := range e.sectors {
		if !s.dirty[sec] {
			continue
		}
		delete(s.dirty, sec)
		top := 0
		for w, win := range e.esc.Windows {
			s.winLevel[sec][w] = e.windowLevel(e.score(s, sec, w), win, s.winLevel[sec][w])
			top = max(top, s.winLevel[sec][w])
		}
		if top != s.level[sec] {
			if emit != nil {
				emit(Change{At: at, Sector: e.sectors[sec], From: truce.Levels()[s.level[sec]], To: truce.Levels()[top], Scores: e.scores(s, sec)})
			}
			s.level[sec], s.since[sec] = top, at
		}
	}
	n := e.esc.RenewedAggressionSectors
	if n <= 0 {
		return
	}
	critical := 0
	for _, l := range s.level {
		if l == 3 {
			critical++
		}
	}
	if fire := critical >= n; fire != s.triggered {
		s.triggered = fire
		if emit != nil {
			var crit []string
			for sec, l := range s.level {
				if l == 3 {
					crit = append(crit, e.sectors[sec])
				}
			}
			emit(Change{At: at, Trigger: &fire, Critical: crit})
		}
	}
}

func (e *Escalator) score(s *state, sec, w int) float64 {
	var sum float64
	for i, n := range s.counts[sec][w] {
		sum += float64(n) * e.weights[i]
	}
	return sum
}

func (e *Escalator) scores(s *state, sec int) []float64 {
	out := make([]float64, len(e.esc.Windows))
	for w := range out {
		out[w] = e.score(s, sec, w)
	}
	return out
}

// windowLevel is a window's level for score given its previous level: a
// level holds once its threshold is reached and until the score falls
// under Hysteresis times that threshold.
func (e *Escalator) windowLevel(score float64, win truce.EscalationWindow, prev int) int {
	thr := [4]float64{0, win.Tense, win.Serious, win.Critical}
	level := 0
	for l := 3; l > 0; l-- {
		if score >= thr[l] || l <= prev && score >= e.esc.Hysteresis*thr[l] {
			level = l
			break
		}
	}
	return level
}

// Levels returns every sector's level as of now, in agreement order,
// without changing what the next Advance reports. A now before the last
// Advance is taken as the last Advance.
func (e *Escalator) Levels(now time.Time) []truce.SectorLevel {
	s := e.state.clone()
	if e.started {
		if now.Before(e.last) {
			now = e.last
		}
		e.evaluate(&s, e.last, nil)
	}
	var due []event
	for _, ev := range e.events {
		if !ev.at.After(now) {
			due = append(due, ev)
		}
	}
	slices.SortFunc(due, func(x, y event) int {
		if c := x.at.Compare(y.at); c != 0 {
			return c
		}
		return cmp.Compare(x.seq, y.seq)
	})
	// Entries due before now schedule exits that may be due too.
	var extra []event
	for i := 0; i < len(due) || len(extra) > 0; {
		var ev event
		if len(extra) > 0 && (i >= len(due) || extra[0].at.Before(due[i].at)) {
			ev, extra = extra[0], extra[1:]
		} else {
			ev = due[i]
			i++
		}
		if e.apply(&s, ev, false) && ev.win < 0 {
			for w, win := range e.esc.Windows {
				if x := ev.rec.t.Add(win.Duration); !x.After(now) {
					extra = append(extra, event{at: x, rec: ev.rec, win: w})
				}
			}
			slices.SortStableFunc(extra, func(x, y event) int { return x.at.Compare(y.at) })
		}
		next := time.Time{}
		switch {
		case len(extra) > 0 && (i >= len(due) || extra[0].at.Before(due[i].at)):
			next = extra[0].at
		case i < len(due):
			next = due[i].at
		}
		if next.IsZero() || !next.Equal(ev.at) {
			e.evaluate(&s, ev.at, nil)
		}
	}
	out := make([]truce.SectorLevel, len(e.sectors))
	for sec, id := range e.sectors {
		out[sec] = truce.SectorLevel{Sector: id, Level: truce.Levels()[s.level[sec]], Since: s.since[sec], Scores: e.scores(&s, sec)}
	}
	return out
}

// Triggered reports whether the renewed-aggression trigger stands after
// the last Advance.
func (e *Escalator) Triggered() bool { return e.state.triggered }
