package server

import (
	"context"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/truce-dev/truce/examples/donbas"
	"github.com/truce-dev/truce/internal/agreement"
	"github.com/truce-dev/truce/internal/cot"
	"github.com/truce-dev/truce/internal/engine"
	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/httpapi"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/store/sqlite"
	"github.com/truce-dev/truce/internal/truce"
)

// waitTracks returns the next tracks entry committed, failing after a
// minute.
func waitTracks(t *testing.T, sub <-chan []journal.Entry) journal.Entry {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		select {
		case es := <-sub:
			for _, e := range es {
				if e.Kind == journal.KindTracks {
					return e
				}
			}
		case <-deadline:
			t.Fatal("no tracks entry was journaled within a minute")
		}
	}
}

// nextEvent reads events from r until one whose uid starts with prefix.
func nextEvent(t *testing.T, conn net.Conn, r *cot.Reader, prefix string) cot.Event {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(time.Minute))
	for {
		ev, err := r.Next()
		if err != nil {
			t.Fatalf("reading events for %s*: %v", prefix, err)
		}
		if strings.HasPrefix(ev.UID, prefix) {
			return ev
		}
	}
}

// TestCoTBridge: a TAK client connects, is sent the line and the zones,
// reports a real ATAK position report (a track of the configured nation
// in the journal), then an aircraft inside the coalition keep-out band,
// and is sent the keep-out alert as a marker.
func TestCoTBridge(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	feed := journal.NewFeed()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "truce.db"), sqlite.Options{Now: time.Now, Committed: feed.Publish})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := agreement.LoadFS(donbas.FS, "agreement.yaml")
	if err != nil {
		t.Fatal(err)
	}
	planner, monitor, err := Force(ctx, a, st)
	if err != nil {
		t.Fatal(err)
	}
	api, err := httpapi.New(httpapi.Config{Store: st, Feed: feed, Now: time.Now, Planner: planner, Monitor: monitor})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	bridge := NewCoTBridge(CoTOptions{Addr: "127.0.0.1:0", Nation: "GBR", Batch: 1, Flush: 10 * time.Millisecond, Refresh: time.Hour},
		a, api.ReportTracks, slog.New(slog.DiscardHandler), func() time.Time { return now })
	events := engine.NewFeed()
	done := make(chan error, 1)
	go func() { done <- bridge.Run(ctx, events) }()
	select {
	case <-bridge.Server.Ready():
	case err := <-done:
		t.Fatal(err)
	}
	tcp, _ := bridge.Server.Addrs()
	conn, err := net.Dial("tcp", tcp.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := cot.NewReader(conn, 0)

	// The picture: the line first, then the zones drawn as shapes.
	line := nextEvent(t, conn, r, "truce-donbas-demo-line-")
	if line.Type != "u-d-f" || len(line.Links) != len(a.Line.Parts()[0]) || !line.Stale.Equal(now.Add(5*time.Hour)) {
		t.Errorf("line shape: type %s, %d vertices (want u-d-f, %d), stale %s", line.Type, len(line.Links), len(a.Line.Parts()[0]), line.Stale)
	}
	if sea := nextEvent(t, conn, r, "truce-zone-"); sea.Type != "u-d-f" && sea.Type != "u-d-c-c" {
		t.Errorf("zone shape of type %s", sea.Type)
	}

	sub := feed.Subscribe(64)
	defer sub.Close()
	pli, err := os.ReadFile("../cot/testdata/captures/atak-pli.xml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(pli); err != nil {
		t.Fatal(err)
	}
	e := waitTracks(t, sub.C)
	if e.Org != "GBR" || len(e.Tracks) != 1 {
		t.Fatalf("tracks entry by %s with %d positions, want GBR and 1", e.Org, len(e.Tracks))
	}
	// Values read off the capture.
	p := e.Tracks[0]
	want := truce.Position{Unit: "ANDROID-53af0912586418dc", Nation: "GBR", Domain: truce.DomainLand,
		Time: time.Date(2020, 8, 29, 21, 14, 0, 406e6, time.UTC)}
	if p.Unit != want.Unit || p.Nation != want.Nation || p.Domain != want.Domain || !p.Time.Equal(want.Time) ||
		math.Abs(p.Point.Lat-39.71401955573084) > 1e-7 || math.Abs(p.Point.Lon+104.99452709918448) > 1e-7 || math.Abs(p.Alt-1586.245787738948) > 1e-3 {
		t.Errorf("position %+v, want %+v at 39.7140196, -104.9945271, 1586.246 m", p, want)
	}

	// An aircraft on the line itself: inside the keep-out band.
	onLine := a.Line.Parts()[0][len(a.Line.Parts()[0])/2]
	air := cot.Event{Version: "2.0", UID: "GBR-RIVET-1", Type: "a-f-A-M-F-Q", How: "m-g", Time: now, Start: now, Stale: now.Add(time.Minute),
		Point: cot.Point{Lat: onLine.Lat, Lon: onLine.Lon, HAE: 6000, CE: 10, LE: 10}, Course: math.NaN(), Speed: math.NaN()}
	// A hostile marker first: not a unit of ours, passed over and
	// counted (the connection's events are handled in order).
	hostile, err := os.ReadFile("../cot/testdata/captures/atak-hostile-marker-a-h-G.xml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(append(hostile, cot.MarshalXML(air)...)); err != nil {
		t.Fatal(err)
	}
	if e := waitTracks(t, sub.C); e.Tracks[0].Unit != "GBR-RIVET-1" || e.Tracks[0].Domain != truce.DomainAir || e.Tracks[0].Alt != 6000 {
		t.Errorf("aircraft position %+v", e.Tracks[0])
	}
	if got := bridge.Ignored()["not a friendly unit"]; got != 1 {
		t.Errorf("hostile markers passed over: %d, want 1", got)
	}
	alert := nextEvent(t, conn, r, "truce-alert-keep_out-GBR-RIVET-1-coalition-keep-out-")
	if alert.Type != cot.MarkerType || !strings.Contains(alert.Remarks, "coalition-keep-out") ||
		math.Abs(alert.Point.Lat-onLine.Lat) > 1e-6 || math.Abs(alert.Point.Lon-onLine.Lon) > 1e-6 {
		t.Errorf("alert marker %s at %v: %q", alert.Type, alert.Point, alert.Remarks)
	}

	// Incidents the nation may see arrive as markers, with their
	// violations; one it may not see (a RED report of another
	// organisation) does not.
	seen := truce.Incident{ID: "inc-seen", Category: truce.CategoryExplosion, Location: geo.Pt(48.1, 37.6), Uncertainty: 300, Party: "RU",
		Start: now, Observations: []truce.ObservationRef{{Org: "coalition", Marking: truce.Marking{TLP: truce.TLPGreen}}}}
	hidden := seen
	hidden.ID, hidden.Observations = "inc-hidden", []truce.ObservationRef{{Org: "UA", Marking: truce.Marking{TLP: truce.TLPRed}}}
	v := truce.Violation{ID: "inc-seen/ceasefire", Incident: "inc-seen", Rule: truce.RuleCeasefire, Party: "RU", Severity: truce.SeverityHigh, Explanation: "fire across the line"}
	events.Publish([]engine.Event{
		{Kind: engine.EventIncident, Incident: &hidden},
		{Kind: engine.EventIncident, Incident: &seen, Violations: []truce.Violation{v}},
	})
	inc := nextEvent(t, conn, r, "truce-incident-")
	if inc.UID != "truce-incident-inc-seen" || !strings.Contains(inc.Callsign, "violation (RU)") || !strings.Contains(inc.Remarks, "fire across the line") ||
		math.Abs(inc.Point.Lat-48.1) > 1e-6 || inc.Point.CE != 300 {
		t.Errorf("incident marker %s %q at %v: %q", inc.UID, inc.Callsign, inc.Point, inc.Remarks)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// TestCoTMarkerObservation: with a mapping, a marker a TAK user drops
// becomes an observation of the nation, once per marker uid.
func TestCoTMarkerObservation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "truce.db"), sqlite.Options{Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	typ, cat, err := ParseMarker("a-h-G=military_presence")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"a-h-G", "=explosion", "a-h-G=rain"} {
		if _, _, err := ParseMarker(bad); err == nil {
			t.Errorf("ParseMarker(%q) accepted", bad)
		}
	}
	b := NewCoTBridge(CoTOptions{Addr: "127.0.0.1:0", Nation: "GBR", Markers: map[string]truce.Category{typ: cat, "a-h": truce.CategoryExplosion}},
		&truce.Agreement{ID: "none"}, nil, slog.New(slog.DiscardHandler), time.Now)
	b.Journal = func(ctx context.Context, es []journal.Entry) error { _, err := st.Append(ctx, es); return err }
	data, err := os.ReadFile("../cot/testdata/captures/atak-hostile-marker-a-h-G.xml")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := cot.ParseXML(data)
	if err != nil {
		t.Fatal(err)
	}
	// The longest mapped type wins; twice is one observation.
	b.handle(ctx, ev, "tcp:test")
	b.handle(ctx, ev, "tcp:test")
	var got []truce.Observation
	st.Entries(ctx, 0, 0, func(e *journal.Entry, _ []byte) error {
		if e.Kind == journal.KindObservation {
			if e.Org != "GBR" {
				t.Errorf("recorded by %s, want GBR", e.Org)
			}
			got = append(got, *e.Observation)
		}
		return nil
	})
	if len(got) != 1 {
		t.Fatalf("%d observations journaled, want 1", len(got))
	}
	o := got[0]
	if o.Category != truce.CategoryMilitaryPresence || o.Method != truce.MethodSeen || o.Source != "tak:GBR" || o.SourceID != ev.UID || o.Location == nil ||
		math.Abs(o.Location.Point.Lat-ev.Point.Lat) > 1e-7 || !o.Time.Equal(ev.Time.Round(time.Microsecond)) {
		t.Errorf("observation %+v from marker %s at %v", o, ev.UID, ev.Point)
	}
}
