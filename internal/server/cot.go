package server

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/truce-dev/truce/internal/api"
	"github.com/truce-dev/truce/internal/cot"
	"github.com/truce-dev/truce/internal/deconflict"
	"github.com/truce-dev/truce/internal/engine"
	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/ingest"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/truce"
)

// Reporter journals and judges a batch of positions (httpapi.Server's
// ReportTracks).
type Reporter func(ctx context.Context, org truce.OrgID, batch []truce.Position) (uint64, []truce.TrackAlert, error)

// CoTOptions configure the TAK/CoT bridge.
type CoTOptions struct {
	Addr string // host:port for TCP and UDP
	// Nation is the coalition nation whose units the connected TAK clients
	// are: friendly positions become its tracks.
	Nation truce.NationID
	// Viewer is who the connected clients are for what they may see of
	// incidents (default: a viewer of Nation).
	Viewer truce.Principal
	// Refresh is how often the line and zones are sent again (default 1
	// minute); markers and shapes go stale after five refreshes.
	Refresh time.Duration
	// Batch and Flush bound how many positions are journaled together and
	// how long one waits for company (defaults 1000 and 250 ms).
	Batch int
	Flush time.Duration
	// Markers maps CoT types (a type and the types below it: "b-r-f-h-c"
	// holds "b-r-f-h-c-x") to the observation category a marker of that
	// type reports: such markers become observations of the nation, seen
	// by the client's user, one per marker uid. Nil: markers are passed
	// over.
	Markers map[string]truce.Category
	// Parties are the agreement's parties, for validating observations.
	Parties []truce.PartyID
}

// ParseMarker reads a --cot-marker mapping, TYPE=CATEGORY.
func ParseMarker(s string) (string, truce.Category, error) {
	typ, cat, ok := strings.Cut(s, "=")
	if !ok || typ == "" || strings.ContainsAny(typ, " \t") {
		return "", "", fmt.Errorf("%q: want TYPE=CATEGORY, such as b-r-f-h-c=explosion", s)
	}
	c, err := truce.ParseCategory(cat)
	if err != nil {
		return "", "", fmt.Errorf("%q: %v", s, err)
	}
	return typ, c, nil
}

// CoTBridge connects TAK clients to truce: friendly units' positions
// (CoT type a-f-*) become tracks of the configured nation, with the CoT
// uid as the unit; TAK clients receive the line of contact and the
// agreement's zones as shapes, incidents (with their violations) and track
// alerts as markers. Markers of the types CoTOptions.Markers maps become
// observations; other CoT events are counted and passed over.
type CoTBridge struct {
	Server *cot.Server
	opt    CoTOptions
	report Reporter
	// Journal, when set, journals the observations markers report.
	Journal func(ctx context.Context, entries []journal.Entry) error
	agr     *truce.Agreement
	log     *slog.Logger
	now     func() time.Time

	pos     chan truce.Position
	mu      sync.Mutex
	ignored map[string]uint64 // events passed over, by reason
	shapes  []cot.Event       // the line and zones, built once
}

// NewCoTBridge returns a bridge; Run starts it.
func NewCoTBridge(opt CoTOptions, agr *truce.Agreement, report Reporter, log *slog.Logger, now func() time.Time) *CoTBridge {
	if opt.Refresh <= 0 {
		opt.Refresh = time.Minute
	}
	if opt.Batch <= 0 {
		opt.Batch = 1000
	}
	if opt.Flush <= 0 {
		opt.Flush = 250 * time.Millisecond
	}
	if opt.Viewer.Role == "" {
		opt.Viewer = truce.Principal{Org: opt.Nation, Kind: truce.OrgNation, Role: truce.RoleViewer}
	}
	b := &CoTBridge{opt: opt, report: report, agr: agr, log: log, now: now, pos: make(chan truce.Position, 4*opt.Batch), ignored: map[string]uint64{},
		shapes: shapesOf(agr, now(), 5*opt.Refresh)}
	b.Server = &cot.Server{Addr: opt.Addr, Log: log, Handle: b.handle, Welcome: b.picture}
	return b
}

// domainOf reads the battle dimension of a CoT atom type (a-f-A-...:
// air; S or U: sea; otherwise land).
func domainOf(typ string) truce.Domain {
	parts := strings.Split(typ, "-")
	if len(parts) > 2 {
		switch parts[2] {
		case "A":
			return truce.DomainAir
		case "S", "U":
			return truce.DomainSea
		}
	}
	return truce.DomainLand
}

// PositionOf returns the track position a friendly CoT event reports for
// nation, and false for events that report none.
func PositionOf(ev *cot.Event, nation truce.NationID) (truce.Position, bool) {
	if !ev.IsFriendly() {
		return truce.Position{}, false
	}
	p := truce.Position{Unit: ev.UID, Nation: nation, Domain: domainOf(ev.Type), Time: ev.Time.UTC(), Point: geo.Pt(ev.Point.Lat, ev.Point.Lon)}
	if !cot.IsUnknown(ev.Point.HAE) {
		p.Alt = ev.Point.HAE
	}
	return p.Canonical(), true
}

func (b *CoTBridge) pass(reason string) {
	b.mu.Lock()
	b.ignored[reason]++
	b.mu.Unlock()
}

// Ignored returns how many events were passed over, by reason.
func (b *CoTBridge) Ignored() map[string]uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string]uint64, len(b.ignored))
	for k, v := range b.ignored {
		out[k] = v
	}
	return out
}

// markerCategory returns the category a marker of type typ reports, by
// the longest mapped type that holds it.
func (b *CoTBridge) markerCategory(typ string) (truce.Category, bool) {
	best, cat := -1, truce.Category("")
	for t, c := range b.opt.Markers {
		if (typ == t || strings.HasPrefix(typ, t+"-")) && len(t) > best {
			best, cat = len(t), c
		}
	}
	return cat, best >= 0
}

// ObservationOf returns the observation a mapped marker reports, as the
// API would take it from the nation's user.
func ObservationOf(ev *cot.Event, cat truce.Category, nation truce.NationID) api.Observation {
	lat, lon := ev.Point.Lat, ev.Point.Lon
	o := api.Observation{Source: "tak:" + string(nation), SourceID: ev.UID, Method: string(truce.MethodSeen), Category: string(cat),
		Time: ev.Time.UTC().Format(time.RFC3339Nano), Lat: &lat, Lon: &lon, Text: strings.TrimSpace(ev.Callsign + " " + ev.Remarks)}
	if !cot.IsUnknown(ev.Point.CE) && ev.Point.CE > 0 {
		cep := ev.Point.CE
		o.CEPM = &cep
	}
	return o
}

func (b *CoTBridge) marker(ctx context.Context, ev *cot.Event, from string, cat truce.Category) {
	w := ObservationOf(ev, cat, b.opt.Nation)
	obs, rej := ingest.Validate(&w, ingest.Options{Now: b.now(), Parties: b.opt.Parties})
	if rej != nil {
		b.log.Warn("cot: marker refused as an observation", "from", from, "uid", ev.UID, "field", rej.Field, "reason", rej.Reason)
		b.pass("invalid observation")
		return
	}
	if err := b.Journal(ctx, []journal.Entry{{Kind: journal.KindObservation, Org: b.opt.Nation, Observation: &obs}}); err != nil {
		b.log.Error("cot: journal observation", "uid", ev.UID, "err", err)
	}
}

func (b *CoTBridge) handle(ctx context.Context, ev cot.Event, from string) {
	p, ok := PositionOf(&ev, b.opt.Nation)
	if !ok {
		if cat, mapped := b.markerCategory(ev.Type); mapped && b.Journal != nil {
			b.marker(ctx, &ev, from, cat)
			return
		}
		b.pass("not a friendly unit")
		return
	}
	if err := deconflict.ValidatePositions([]truce.Position{p}); err != nil {
		b.log.Warn("cot: position refused", "from", from, "uid", ev.UID, "err", err)
		b.pass("invalid position")
		return
	}
	select {
	case b.pos <- p:
	case <-ctx.Done():
	default:
		b.log.Warn("cot: positions arrive faster than they are journaled; dropped one", "from", from, "uid", ev.UID)
		b.pass("backlog full")
	}
}

// Run serves TAK clients until ctx ends: it journals positions in batches,
// sends the line and zones every Refresh, and forwards violations from
// events and alerts from the tracks.
func (b *CoTBridge) Run(ctx context.Context, events *engine.Feed) error {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); b.batches(ctx) }()
	go func() { defer wg.Done(); b.outgoing(ctx, events) }()
	err := b.Server.ListenAndServe(ctx)
	wg.Wait()
	return err
}

func (b *CoTBridge) batches(ctx context.Context) {
	var batch []truce.Position
	tick := time.NewTicker(b.opt.Flush)
	defer tick.Stop()
	flush := func() {
		if len(batch) == 0 {
			return
		}
		_, alerts, err := b.report(context.WithoutCancel(ctx), b.opt.Nation, batch)
		if err != nil {
			b.log.Error("cot: journal positions", "positions", len(batch), "err", err)
		}
		for i := range alerts {
			b.Server.Broadcast(alertMarker(&alerts[i], 5*b.opt.Refresh))
		}
		batch = batch[:0]
	}
	for {
		select {
		case p := <-b.pos:
			batch = append(batch, p)
			if len(batch) >= b.opt.Batch {
				flush()
			}
		case <-tick.C:
			flush()
		case <-ctx.Done():
			for {
				select {
				case p := <-b.pos:
					batch = append(batch, p)
				default:
					flush()
					return
				}
			}
		}
	}
}

// picture returns the line and zones, stamped now.
func (b *CoTBridge) picture() []cot.Event {
	now := b.now()
	out := make([]cot.Event, len(b.shapes))
	for i, ev := range b.shapes {
		ev.Time, ev.Start, ev.Stale = now, now, now.Add(5*b.opt.Refresh)
		out[i] = ev
	}
	return out
}

func (b *CoTBridge) outgoing(ctx context.Context, events *engine.Feed) {
	var sub <-chan []engine.Event
	if events != nil {
		s := events.Subscribe(256)
		defer s.Close()
		sub = s.C
	}
	select {
	case <-b.Server.Ready():
	case <-ctx.Done():
		return
	}
	send := func() {
		for _, ev := range b.picture() {
			b.Server.Broadcast(ev)
		}
	}
	send()
	tick := time.NewTicker(b.opt.Refresh)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			send()
		case evs, ok := <-sub:
			if !ok {
				sub = nil
				continue
			}
			for i := range evs {
				ev := &evs[i]
				if ev.Kind != engine.EventIncident || ev.Incident == nil || !engine.Visible(b.opt.Viewer, ev.Incident) {
					continue
				}
				b.Server.Broadcast(incidentMarker(ev.Incident, ev.Violations, b.now(), 60*b.opt.Refresh))
			}
		}
	}
}

func cotPoint(p geo.Point) cot.Point {
	return cot.Point{Lat: p.Lat, Lon: p.Lon, HAE: cot.Unknown, CE: cot.Unknown, LE: cot.Unknown}
}

func cotPoints(ps []geo.Point) []cot.Point {
	out := make([]cot.Point, len(ps))
	for i, p := range ps {
		out[i] = cotPoint(p)
	}
	return out
}

// shapesOf draws the line of contact and every zone with fixed polygons
// (areas and sites; bands are drawn as the line they follow).
func shapesOf(a *truce.Agreement, now time.Time, stale time.Duration) []cot.Event {
	var out []cot.Event
	if a.Line != nil {
		for i, part := range a.Line.Parts() {
			out = append(out, cot.Polyline(fmt.Sprintf("truce-%s-line-%d", a.ID, i), "Line of contact", cotPoints(part), cot.Red, now, stale))
		}
	}
	for i := range a.Zones {
		z := &a.Zones[i]
		if z.Site != nil {
			out = append(out, cot.Circle("truce-zone-"+z.ID, z.Name, cotPoint(z.Site.Cap.Center), z.Site.Cap.Radius, cot.Blue, now, stale))
			continue
		}
		for j, poly := range z.Polygons(100) {
			if len(poly) == 0 {
				continue
			}
			color := cot.Yellow
			if _, closed := deconflict.ClosedTo(z.Kind); closed {
				color = cot.Red.WithAlpha(0x80)
			}
			out = append(out, cot.Polygon(fmt.Sprintf("truce-zone-%s-%d", z.ID, j), z.Name, cotPoints(poly[0]), color, now, stale))
		}
	}
	return out
}

// incidentMarker is an incident as a marker: one per incident (its uid
// follows the incident as it is updated), labelled with its category and
// the party held responsible, the violations in its remarks.
func incidentMarker(inc *truce.Incident, vs []truce.Violation, now time.Time, stale time.Duration) cot.Event {
	label := string(inc.Category)
	if len(vs) > 0 {
		label += " — violation"
	}
	if inc.Party != "" {
		label += " (" + string(inc.Party) + ")"
	}
	remarks := fmt.Sprintf("%s at %s", inc.Category, inc.Start.UTC().Format(time.RFC3339))
	if inc.Likelihood != "" {
		remarks += fmt.Sprintf(", %s, %d source(s)", inc.Likelihood, inc.Sources)
	}
	for _, v := range vs {
		remarks += fmt.Sprintf("; %s (%s): %s", v.Rule, v.Severity, v.Explanation)
	}
	p := cotPoint(inc.Location)
	p.CE = max(inc.Uncertainty, 1)
	return cot.Marker("truce-incident-"+inc.ID, "", p, label, remarks, now, stale)
}

func alertMarker(a *truce.TrackAlert, stale time.Duration) cot.Event {
	label := fmt.Sprintf("%s: %s", a.Kind, a.Unit)
	remarks := fmt.Sprintf("%s %s at %s", a.Unit, a.Kind, a.Time.UTC().Format(time.RFC3339))
	switch {
	case a.Zone != "":
		remarks += " in zone " + a.Zone
	case a.Other != "":
		remarks += fmt.Sprintf(" %.0f m from %s", a.Distance, a.Other)
	case a.Activity != "":
		remarks += fmt.Sprintf(" (activity %s, %.0f m outside)", a.Activity, a.Distance)
	}
	uid := fmt.Sprintf("truce-alert-%s-%s-", a.Kind, a.Unit)
	if a.Zone+a.Other != "" {
		uid += a.Zone + a.Other + "-"
	}
	return cot.Marker(fmt.Sprintf("%s%d", uid, a.Time.UnixMilli()), "", cotPoint(a.Point), label, remarks, a.Time, stale)
}
