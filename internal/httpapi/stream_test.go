package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/goccy/go-json"
	"github.com/truce-dev/truce/internal/api"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/store/sqlite"
	"github.com/truce-dev/truce/internal/truce"
)

var green = truce.Marking{TLP: truce.TLPGreen}

// readUntil reads observation events until the one with id last, checking
// that their ids are exactly want, in order.
func readIDs(t *testing.T, r *sseReader, want []uint64) {
	t.Helper()
	for i, w := range want {
		ev, err := r.nextEvent()
		if err != nil {
			t.Fatalf("event %d: %v (want id %d)", i, err, w)
		}
		if ev.event != "observation" || ev.id != strconv.FormatUint(w, 10) {
			t.Fatalf("event %d: got %s %s, want observation %d", i, ev.event, ev.id, w)
		}
		var rec api.ObservationRecord
		if err := json.Unmarshal([]byte(ev.data), &rec); err != nil || rec.ID != w {
			t.Fatalf("event %d: data %s (%v), want the record of %d", i, ev.data, err, w)
		}
	}
}

func seqs(from, to uint64) []uint64 {
	var s []uint64
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

func TestStreamResume(t *testing.T) {
	e := newEnv(t, nil)
	reader := e.token(t, "GBR", truce.OrgNation, truce.RoleViewer) // seq 1
	var obs []truce.Observation
	for i := range 10 {
		obs = append(obs, fixture("s", fmt.Sprint("a", i), green))
	}
	ids := e.appendObservations(t, "MISSION", obs...) // 2..11
	if ids[0] != 2 || ids[9] != 11 {
		t.Fatalf("fixture ids %v", ids)
	}
	admin := e.token(t, "GBR", truce.OrgNation, truce.RoleAdmin) // seq 12

	tests := []struct {
		name        string
		lastEventID string
		query       string
	}{
		{"Last-Event-ID", "5", ""},
		{"after", "", "?after=5"},
		{"Last-Event-ID over after", "5", "?after=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			r := e.openStream(t, ctx, reader, tt.lastEventID, tt.query)
			head := e.head(t)
			readIDs(t, r, seqs(6, 11)) // the backlog (12, a token, is for admins)
			readIDs(t, r, seqs(13, head))
			more := e.appendObservations(t, "MISSION", fixture("s", "live-"+tt.name, green), fixture("s", "live2-"+tt.name, green))
			readIDs(t, r, more) // then live, nothing repeated
		})
	}

	t.Run("no resume starts at the head", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		r := e.openStream(t, ctx, reader, "", "")
		ev, err := r.next()
		if err != nil || ev.retry == "" {
			t.Fatalf("first block: got %+v, %v; want a retry announcement", ev, err)
		}
		more := e.appendObservations(t, "MISSION", fixture("s", "fresh", green))
		readIDs(t, r, more)
	})

	t.Run("token entries of its organisation, to its admins", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if ev, err := e.openStream(t, ctx, reader, "0", "").nextEvent(); err != nil || ev.event == "token" {
			t.Fatalf("viewer: got %+v, %v; want no token event", ev, err)
		}
		r := e.openStream(t, ctx, admin, "0", "")
		ev, err := r.nextEvent()
		if err != nil || ev.event != "token" || ev.id != "1" {
			t.Fatalf("got %+v, %v; want token event 1", ev, err)
		}
		var tok map[string]any
		if err := json.Unmarshal([]byte(ev.data), &tok); err != nil {
			t.Fatal(err)
		}
		if tok["org"] != "GBR" || tok["role"] != "viewer" || tok["kind"] != "nation" || tok["hash"] != nil {
			t.Errorf("token event %s", ev.data)
		}
	})

	for _, bad := range []struct{ header, query string }{{"x", ""}, {"", "?after=-1"}, {"", "?from=1"}, {"999999", ""}, {"9223372036854775808", ""}, {"", "?after=18446744073709551615"}} {
		rq := request{method: "GET", path: "/api/v1/stream" + bad.query, token: reader}
		if bad.header != "" {
			rq.header = map[string]string{"Last-Event-ID": bad.header}
		}
		if resp, b := e.do(t, rq); resp.StatusCode != 400 {
			t.Errorf("stream %+v: got %d %s, want 400", bad, resp.StatusCode, b)
		}
	}
}

// TestStreamConcurrentAppends starts a stream from the beginning while
// entries are appended: it must see each exactly once, in order, across
// the change from replay to live.
func TestStreamConcurrentAppends(t *testing.T) {
	e := newEnv(t, nil)
	reader := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleAnalyst) // seq 1
	const n = 300
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			e.appendObservations(t, "MISSION", fixture("c", fmt.Sprint(i), green))
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r := e.openStream(t, ctx, reader, "1", "")
	readIDs(t, r, seqs(2, n+1))
	<-done
}

// TestStreamSlowClient: a client that does not read is dropped with
// "event: lost" while ingest goes on at full speed, and a client that
// reads and reconnects as told receives every entry exactly once.
func TestStreamSlowClient(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.StreamBuffer = 1 })
	monitor := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleMonitor) // seq 1
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	slow := e.openStream(t, ctx, monitor, "", "") // never read until ingest is over

	// The fast client: reads all the time, and reconnects after "lost"
	// from the id it is told.
	const batches, size = 30, 1000
	total := uint64(1 + batches*size)
	var (
		wg        sync.WaitGroup
		got       []uint64
		reconnect int
		fastErr   error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		r, err := e.openStreamErr(ctx, monitor, "1", "")
		if err != nil {
			fastErr = err
			return
		}
		for uint64(len(got)) < total-1 {
			ev, err := r.nextEvent()
			if err != nil {
				fastErr = fmt.Errorf("after %d events: %w", len(got), err)
				return
			}
			switch ev.event {
			case "observation":
				id, _ := strconv.ParseUint(ev.id, 10, 64)
				got = append(got, id)
			case "lost":
				var l lostEvent
				if err := json.Unmarshal([]byte(ev.data), &l); err != nil {
					fastErr = err
					return
				}
				if want := strconv.FormatUint(2+uint64(len(got))-1, 10); l.LastEventID != want {
					fastErr = fmt.Errorf("lost: got last_event_id %s, want %s", l.LastEventID, want)
					return
				}
				reconnect++
				if r, err = e.openStreamErr(ctx, monitor, l.LastEventID, ""); err != nil {
					fastErr = err
					return
				}
			default:
				fastErr = fmt.Errorf("unexpected event %+v", ev)
				return
			}
		}
	}()

	for b := range batches {
		if status, res := e.post(t, monitor, "application/x-ndjson", ndjson("slow", fmt.Sprint(b, "-"), size)); status != 200 || res.Accepted != size {
			t.Fatalf("batch %d: got %d %+v", b, status, res)
		}
	}
	wg.Wait()
	if fastErr != nil {
		t.Fatalf("fast client: %v", fastErr)
	}
	for i, id := range got {
		if id != uint64(i)+2 {
			t.Fatalf("fast client: event %d has id %d, want %d (gap or repeat)", i, id, i+2)
		}
	}
	t.Logf("fast client reconnected %d times", reconnect)

	// The slow client now reads: some events, then lost, then the end.
	var last uint64
	for {
		ev, err := slow.nextEvent()
		if err != nil {
			t.Fatalf("slow client: %v before event lost", err)
		}
		if ev.event == "lost" {
			var l lostEvent
			if err := json.Unmarshal([]byte(ev.data), &l); err != nil {
				t.Fatal(err)
			}
			if l.LastEventID != strconv.FormatUint(last, 10) && !(last == 0 && l.LastEventID == "1") {
				t.Errorf("slow client lost: got last_event_id %s, want %d", l.LastEventID, last)
			}
			break
		}
		last, _ = strconv.ParseUint(ev.id, 10, 64)
	}
	if last >= total {
		t.Errorf("slow client got every event up to %d: it was not dropped", last)
	}
	if _, err := slow.next(); !errors.Is(err, io.EOF) {
		t.Errorf("slow client after lost: got %v, want the end of the stream", err)
	}
}

// TestStreamEnds: a stream ends when the feed closes (server shutdown) and
// when the client goes away; heartbeats keep an idle one alive.
func TestStreamEnds(t *testing.T) {
	e := newEnv(t, nil, func(s *Server) { s.heartbeat = time.Millisecond })
	reader := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleAdmin) // admins see token events

	t.Run("heartbeat", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		r := e.openStream(t, ctx, reader, "", "")
		for {
			ev, err := r.next()
			if err != nil {
				t.Fatal(err)
			}
			if ev.comment == "ping" {
				break
			}
		}
	})

	t.Run("client goes away", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		r := e.openStream(t, ctx, reader, "", "")
		if _, err := r.next(); err != nil {
			t.Fatal(err)
		}
		cancel()
		e.waitFinished(t, "/api/v1/stream")
	})

	t.Run("feed closes", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		r := e.openStream(t, ctx, reader, "0", "")
		if ev, err := r.nextEvent(); err != nil || ev.event != "token" {
			t.Fatalf("got %+v, %v; want the token event", ev, err)
		}
		e.feed.Close()
		for {
			_, err := r.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("got %v, want the end of the stream", err)
			}
		}
		// A stream opened after the close replays and ends too.
		r = e.openStream(t, ctx, reader, "0", "")
		if ev, err := r.nextEvent(); err != nil || ev.event != "token" {
			t.Fatalf("got %+v, %v; want the token event", ev, err)
		}
		if _, err := r.nextEvent(); !errors.Is(err, io.EOF) {
			t.Fatalf("got %v, want the end of the stream", err)
		}
	})
}

// TestStreamOtherWriter: entries another process appends to the same
// database (truce ingest --db beside truce serve) reach the stream without
// any local commit to reveal them.
func TestStreamOtherWriter(t *testing.T) {
	e := newEnv(t, nil, func(s *Server) { s.heartbeat = 5 * time.Millisecond })
	reader := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleAnalyst) // seq 1
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r := e.openStream(t, ctx, reader, "", "")

	other, err := sqlite.Open(ctx, e.path, sqlite.Options{Now: testClock}) // publishes to no feed
	if err != nil {
		t.Fatal(err)
	}
	obs := fixture("offline", "o1", green)
	if _, err := other.Append(ctx, []journal.Entry{{Kind: journal.KindObservation, Org: "MISSION", Observation: &obs}}); err != nil {
		t.Fatal(err)
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	readIDs(t, r, []uint64{2})
}
