package engine

import (
	"cmp"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/truce-dev/truce/internal/agreement"
	"github.com/truce-dev/truce/internal/assess"
	"github.com/truce-dev/truce/internal/fuse"
	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/store"
	"github.com/truce-dev/truce/internal/truce"
)

// Config is what an Engine needs.
type Config struct {
	Agreement *truce.Agreement // required
	Fuse      fuse.Config      // zero: fuse.DefaultConfig()
	// Windows are the windows of silence in force (acknowledged or not;
	// assessment heeds the acknowledged ones).
	Windows []truce.SilenceWindow
	// Org is the organisation recorded on derived journal entries.
	Org truce.OrgID
}

// EventKind names what an Event reports.
type EventKind string

// Event kinds.
const (
	// EventIncident: an incident was created or changed; Incident and
	// Violations hold its current state.
	EventIncident EventKind = "incident"
	// EventIncidentMerged: incident Gone was merged into Incident.
	EventIncidentMerged EventKind = "incident_merged"
	// EventViolation: a violation was found that the incident did not
	// have before.
	EventViolation EventKind = "violation"
)

// Event is one change of the engine's judgements, for the live stream.
type Event struct {
	Kind       EventKind
	Seq        uint64 // the journal entry that caused it
	Incident   *truce.Incident
	Violations []truce.Violation // EventIncident: all of the incident's; EventViolation: the new one
	Gone       string            // EventIncidentMerged
}

// Record is an incident with its violations and the last journal entry
// that changed it.
type Record struct {
	Incident   truce.Incident
	Violations []truce.Violation
	Seq        uint64
	// Sector is the sector the incident happened in, "" outside every
	// sector.
	Sector string
}

// Engine keeps the judgements. See the package documentation.
type Engine struct {
	cfg      Config
	fuse     *fuse.Engine
	assessor *assess.Assessor
	index    *agreement.Index // for each incident's sector
	esc      *assess.Escalator

	mu       sync.RWMutex
	records  map[string]*Record
	dirty    map[string]*pending // changed by fusion, not yet judged
	merged   map[string]Merge    // incidents merged away, by their id
	head     uint64              // the last entry applied
	recorded time.Time           // the newest recording time seen
	clock    time.Time           // escalation's clock: the newest observation time seen
}

// New returns an engine for cfg.
func New(cfg Config) (*Engine, error) {
	if cfg.Agreement == nil {
		return nil, errors.New("engine: no agreement")
	}
	if cfg.Fuse.Horizon == 0 {
		cfg.Fuse = fuse.DefaultConfig()
	}
	if cfg.Org == "" {
		cfg.Org = "coalition"
	}
	as, err := assess.New(cfg.Agreement)
	if err != nil {
		return nil, err
	}
	return &Engine{
		cfg:      cfg,
		fuse:     fuse.New(cfg.Fuse),
		assessor: as,
		esc:      assess.NewEscalator(cfg.Agreement),
		index:    agreement.NewIndex(cfg.Agreement, agreement.IndexOptions{}),
		records:  map[string]*Record{},
		dirty:    map[string]*pending{},
		merged:   map[string]Merge{},
	}, nil
}

// Head returns the sequence number of the last entry applied.
func (e *Engine) Head() uint64 {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.head
}

// Apply judges committed entries, in sequence order. It returns the events
// for the live stream and the entries to journal: level changes and
// trigger transitions, as of the newest recording time among entries.
// Entries at or below Head are ignored, so a batch may overlap the last.
// Batches must not split the entries of one recording time (one commit):
// escalation is evaluated as of each batch's last recording time.
func (e *Engine) Apply(entries []journal.Entry) (events []Event, derived []journal.Entry) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range entries {
		en := &entries[i]
		if en.Seq <= e.head {
			continue
		}
		e.head = en.Seq
		if en.Time.After(e.recorded) {
			// Escalation is evaluated at the end of every recording time (a
			// commit) in turn, so that how entries are cut into batches
			// changes nothing.
			events = e.flush(events)
			derived = e.advance(derived)
			e.recorded = en.Time
		}
		if en.Kind == journal.KindWindow && en.Window != nil {
			// A window of silence, or its acknowledgement, may come after
			// the fire it forbids: the incidents it covers are judged again.
			events = e.flush(events)
			e.setWindow(*en.Window)
			e.rejudge(*en.Window, en.Seq)
			events = e.flush(events)
			continue
		}
		if en.Kind != journal.KindObservation || en.Observation == nil {
			continue
		}
		o := en.Observation
		// Escalation runs on event time: the windows slide with what is
		// reported to have happened, so that a day sent in one go (or a
		// backlog after an outage) is judged as it unfolded.
		if o.Time.After(e.clock) {
			e.clock = o.Time
		}
		changed, gone := e.fuse.Add(fuse.Input{ID: en.Seq, Org: en.Org, Observation: *o})
		var carried []string
		for _, id := range gone {
			delete(e.records, id)
			e.esc.Set(id, nil)
			if p, ok := e.dirty[id]; ok {
				carried = append(carried, p.merged...)
				delete(e.dirty, id)
			}
		}
		for j := range changed {
			p := e.dirty[changed[j].ID]
			if p == nil {
				p = &pending{}
				e.dirty[changed[j].ID] = p
			}
			p.inc, p.seq = changed[j], en.Seq
			if j == 0 { // the incident the observation is in: what the gone merged into
				p.merged = append(p.merged, carried...)
				p.merged = append(p.merged, gone...)
			}
		}
	}
	events = e.flush(events)
	return events, e.advance(derived)
}

// setWindow records window w, replacing an earlier entry of the same id.
func (e *Engine) setWindow(w truce.SilenceWindow) {
	for i := range e.cfg.Windows {
		if e.cfg.Windows[i].ID == w.ID {
			e.cfg.Windows[i] = w
			return
		}
	}
	e.cfg.Windows = append(slices.Clip(e.cfg.Windows), w)
}

// rejudge marks for judgement again every incident that may fall inside
// window w: in its period and within its radius (plus the incident's
// uncertainty and a margin).
func (e *Engine) rejudge(w truce.SilenceWindow, seq uint64) {
	for id, r := range e.records {
		inc := &r.Incident
		if w.Period.Until.IsZero() || inc.Start.Before(w.Period.Until) {
			if !inc.End.Before(w.Period.From) && geo.Distance(inc.Location, w.Center) <= w.Radius+inc.Uncertainty+1000 {
				if _, ok := e.dirty[id]; !ok {
					e.dirty[id] = &pending{inc: *inc, seq: seq}
				}
			}
		}
	}
}

// Windows returns the windows of silence the engine knows.
func (e *Engine) Windows() []truce.SilenceWindow {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return slices.Clone(e.cfg.Windows)
}

// pending is an incident fusion changed since the last flush: its state,
// the entry that last changed it and the incidents merged into it.
type pending struct {
	inc    truce.Incident
	seq    uint64
	merged []string
}

// flush judges the incidents fusion changed since the last flush, once
// each whatever the number of reports that changed them (in id order), and
// appends their events.
func (e *Engine) flush(events []Event) []Event {
	ids := slices.Sorted(maps.Keys(e.dirty))
	for _, id := range ids {
		p := e.dirty[id]
		inc := p.inc
		vs := e.assessor.Assess(&inc, e.cfg.Windows)
		old := e.records[inc.ID]
		rec := &Record{Incident: inc, Violations: vs, Seq: p.seq, Sector: e.sectorAt(inc.Location)}
		e.records[inc.ID] = rec
		// A claim nobody but a party makes is judged and shown, but does
		// not move alert levels: one party's complaints alone must not
		// raise a sector, let alone fire the trigger.
		if inc.Status == truce.StatusUnverified {
			e.esc.Set(inc.ID, nil)
		} else {
			e.esc.Set(inc.ID, vs)
		}
		for _, g := range p.merged {
			events = append(events, Event{Kind: EventIncidentMerged, Seq: p.seq, Incident: &rec.Incident, Gone: g})
			e.merged[g] = Merge{Gone: g, Into: inc.ID, Seq: p.seq}
		}
		delete(e.merged, inc.ID) // an id may come back
		events = append(events, Event{Kind: EventIncident, Seq: p.seq, Incident: &rec.Incident, Violations: vs})
		for _, v := range vs {
			if old == nil || !slices.ContainsFunc(old.Violations, func(w truce.Violation) bool { return w.ID == v.ID }) {
				events = append(events, Event{Kind: EventViolation, Seq: p.seq, Incident: &rec.Incident, Violations: []truce.Violation{v}})
			}
		}
	}
	clear(e.dirty)
	return events
}

// advance evaluates escalation as of the engine's clock and appends the
// entries of what changed to derived.
func (e *Engine) advance(derived []journal.Entry) []journal.Entry {
	if e.clock.IsZero() {
		return derived
	}
	for _, c := range e.esc.Advance(e.clock) {
		derived = append(derived, e.entryOf(c))
	}
	return derived
}

func (e *Engine) entryOf(c assess.Change) journal.Entry {
	if c.Trigger != nil {
		return journal.Entry{Kind: journal.KindTrigger, Org: e.cfg.Org, Trigger: &truce.Trigger{Fired: *c.Trigger, At: c.At.Round(truce.TimeUnit), Critical: slices.Sorted(slices.Values(c.Critical))}}
	}
	return journal.Entry{Kind: journal.KindLevel, Org: e.cfg.Org, Level: &truce.LevelChange{Sector: c.Sector, From: c.From, To: c.To, At: c.At.Round(truce.TimeUnit), Scores: slices.Clone(c.Scores)}}
}

// Visible reports whether viewer may see an incident: only when it may see
// every observation in it, so that an incident reveals nothing of a record
// the viewer may not see.
func Visible(viewer truce.Principal, inc *truce.Incident) bool {
	for _, o := range inc.Observations {
		if !viewer.CanSee(o.Marking, o.Org) {
			return false
		}
	}
	return viewer.CanRead()
}

// Incident returns incident id if viewer may see it.
func (e *Engine) Incident(viewer truce.Principal, id string) (Record, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	r, ok := e.records[id]
	if !ok || !Visible(viewer, &r.Incident) {
		return Record{}, truce.ErrNotFound
	}
	return *r, nil
}

// IncidentQuery selects incidents. Zero fields do not filter.
type IncidentQuery struct {
	Viewer truce.Principal
	// From and To bound when the incident happened: it is listed when it
	// overlaps [From, To).
	From, To   time.Time
	BBox       *store.BBox
	Categories []truce.Category
	Statuses   []truce.IncidentStatus
	Sectors    []string
	// Parties filters by attribution; "" in it selects the undetermined.
	Parties []truce.PartyID
	After   Cursor // list incidents after this one
	Limit   int    // 0: 100; at most 1000
}

// Cursor is a position in the list of incidents, which is ordered by start
// time, then id.
type Cursor struct {
	Start time.Time
	ID    string
}

// IsZero reports whether c is the start of the list.
func (c Cursor) IsZero() bool { return c.ID == "" }

func (c Cursor) before(r *Record) bool {
	if c.IsZero() {
		return true
	}
	if d := r.Incident.Start.Compare(c.Start); d != 0 {
		return d > 0
	}
	return r.Incident.ID > c.ID
}

func limitOf(n int) int {
	switch {
	case n <= 0:
		return 100
	case n > 1000:
		return 1000
	}
	return n
}

// Incidents lists the incidents that match q and that q.Viewer may see, in
// order of start time, then id; next is the cursor of the following page
// (zero when there is none).
func (e *Engine) Incidents(q IncidentQuery) (page []Record, next Cursor) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var all []*Record
	for _, r := range e.records {
		if q.After.before(r) && q.matches(r) && Visible(q.Viewer, &r.Incident) {
			all = append(all, r)
		}
	}
	slices.SortFunc(all, func(a, b *Record) int {
		return cmp.Or(a.Incident.Start.Compare(b.Incident.Start), strings.Compare(a.Incident.ID, b.Incident.ID))
	})
	limit := limitOf(q.Limit)
	for i, r := range all {
		if i == limit {
			last := page[len(page)-1].Incident
			return page, Cursor{Start: last.Start, ID: last.ID}
		}
		page = append(page, *r)
	}
	return page, Cursor{}
}

func (q *IncidentQuery) matches(r *Record) bool {
	inc := &r.Incident
	switch {
	case !q.From.IsZero() && inc.End.Before(q.From):
		return false
	case !q.To.IsZero() && !inc.Start.Before(q.To):
		return false
	case q.BBox != nil && !q.BBox.Contains(inc.Location.Lat, inc.Location.Lon):
		return false
	case len(q.Categories) > 0 && !slices.Contains(q.Categories, inc.Category):
		return false
	case len(q.Statuses) > 0 && !slices.Contains(q.Statuses, inc.Status):
		return false
	case len(q.Parties) > 0 && !slices.Contains(q.Parties, inc.Party):
		return false
	case len(q.Sectors) > 0 && !slices.Contains(q.Sectors, r.Sector):
		return false
	}
	return true
}

// sectorAt returns the id of the sector holding p, "" for none.
func (e *Engine) sectorAt(p geo.Point) string {
	if i := e.index.Classify(p).Sector; i >= 0 {
		return e.cfg.Agreement.Sectors[i].ID
	}
	return ""
}

// ViolationQuery selects violations. Zero fields do not filter.
type ViolationQuery struct {
	Viewer     truce.Principal
	From, To   time.Time
	Rules      []truce.Rule
	Sectors    []string
	Parties    []truce.PartyID
	Severities []truce.Severity
	After      Cursor // of the violation's incident
	Limit      int
}

// Violations lists the violations that match q, of incidents q.Viewer may
// see, in the incidents' order; next is the cursor of the following page.
func (e *Engine) Violations(q ViolationQuery) (page []truce.Violation, next Cursor) {
	recs, _ := e.Incidents(IncidentQuery{Viewer: q.Viewer, From: q.From, To: q.To, After: q.After, Limit: 1000})
	limit := limitOf(q.Limit)
	for _, r := range recs {
		var vs []truce.Violation
		for _, v := range r.Violations {
			if (len(q.Rules) == 0 || slices.Contains(q.Rules, v.Rule)) &&
				(len(q.Sectors) == 0 || slices.Contains(q.Sectors, v.Sector)) &&
				(len(q.Parties) == 0 || slices.Contains(q.Parties, v.Party)) &&
				(len(q.Severities) == 0 || slices.Contains(q.Severities, v.Severity)) {
				vs = append(vs, v)
			}
		}
		if len(page) > 0 && len(page)+len(vs) > limit {
			last := page[len(page)-1]
			return page, e.cursorOf(last.Incident)
		}
		page = append(page, vs...)
	}
	if len(recs) == 1000 {
		return page, Cursor{Start: recs[len(recs)-1].Incident.Start, ID: recs[len(recs)-1].Incident.ID}
	}
	return page, Cursor{}
}

func (e *Engine) cursorOf(incident string) Cursor {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if r, ok := e.records[incident]; ok {
		return Cursor{Start: r.Incident.Start, ID: incident}
	}
	return Cursor{}
}

// SectorsAt returns every sector's level as of now, or as of the newest
// entry applied if that is later (a zero now: as of that entry): violations leave their windows with the
// passing of time, whether or not anything new is reported. It changes
// nothing the engine journals: level changes are journaled as of the
// recording times of entries.
func (e *Engine) SectorsAt(now time.Time) []truce.SectorLevel {
	e.mu.Lock() // Levels may advance the escalator's evaluation
	defer e.mu.Unlock()
	if now.Before(e.clock) {
		now = e.clock
	}
	return e.esc.Levels(now)
}

// Triggered reports whether the renewed-aggression trigger stands.
func (e *Engine) Triggered() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.esc.Triggered()
}

// Merge records that incident Gone was merged into Into by journal entry
// Seq.
type Merge struct {
	Gone, Into string
	Seq        uint64
}

// MergedSince returns the merges after journal entry seq into incidents
// viewer may see (following chains of merges to the incident that stands),
// oldest first: what a stream resuming from seq must be told is gone.
func (e *Engine) MergedSince(viewer truce.Principal, seq uint64) []Merge {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var out []Merge
	for _, m := range e.merged {
		if m.Seq <= seq {
			continue
		}
		into := m.Into
		for range len(e.merged) { // follow the chain; it ends at a live incident
			next, ok := e.merged[into]
			if !ok {
				break
			}
			into = next.Into
		}
		if r, ok := e.records[into]; ok && Visible(viewer, &r.Incident) {
			out = append(out, Merge{Gone: m.Gone, Into: into, Seq: m.Seq})
		}
	}
	slices.SortFunc(out, func(a, b Merge) int { return cmp.Or(cmp.Compare(a.Seq, b.Seq), strings.Compare(a.Gone, b.Gone)) })
	return out
}

// Since returns the incidents changed after journal entry seq that viewer
// may see, oldest change first: what a stream resuming from seq missed.
func (e *Engine) Since(viewer truce.Principal, seq uint64) []Record {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var out []Record
	for _, r := range e.records {
		if r.Seq > seq && Visible(viewer, &r.Incident) {
			out = append(out, *r)
		}
	}
	slices.SortFunc(out, func(a, b Record) int {
		return cmp.Or(cmp.Compare(a.Seq, b.Seq), strings.Compare(a.Incident.ID, b.Incident.ID))
	})
	return out
}
