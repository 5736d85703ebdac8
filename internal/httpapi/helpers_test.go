package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-json"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/truce-dev/truce/internal/agreement"
	"github.com/truce-dev/truce/internal/auth"
	"github.com/truce-dev/truce/internal/engine"
	"github.com/truce-dev/truce/internal/evidence"
	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/store/sqlite"
	"github.com/truce-dev/truce/internal/truce"
)

// testNow is the clock of the test servers; observations of the fixtures
// happen before it.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testClock() time.Time { return testNow }

// testEnv is a server over a real SQLite store in a temporary directory,
// served over loopback HTTP.
type testEnv struct {
	db   *sqlite.DB
	path string // of the database
	feed *journal.Feed
	s    *Server
	ts   *httptest.Server
	reg  *prometheus.Registry
	// finished receives the path of each request once its handler has
	// returned (dropped when nobody reads it and it is full).
	finished chan string

	// Set by newJudgingEnv: the engine, fed by a runner from the store's
	// commits, and the feed of its events.
	eng    *engine.Engine
	events *engine.Feed
	run    *engine.Runner
	marks  int // markers appended by settle
}

// newEnv starts a test server; edit may change the configuration, and
// hooks the server before it serves.
func newEnv(t testing.TB, edit func(*Config), hooks ...func(*Server)) *testEnv {
	t.Helper()
	return startEnv(t, false, edit, hooks...)
}

// newJudgingEnv starts a test server with an engine judging by the simple
// test agreement (internal/agreement/testdata/simple): the store's commits
// go to the journal feed and to an engine.Runner, which publishes to the
// events feed.
func newJudgingEnv(t testing.TB, edit func(*Config), hooks ...func(*Server)) *testEnv {
	t.Helper()
	return startEnv(t, true, edit, hooks...)
}

func startEnv(t testing.TB, judging bool, edit func(*Config), hooks ...func(*Server)) *testEnv {
	t.Helper()
	ctx := context.Background()
	e := &testEnv{feed: journal.NewFeed(), reg: prometheus.NewRegistry(), finished: make(chan string, 64)}
	committed := e.feed.Publish
	if judging {
		a, err := agreement.Load("../agreement/testdata/simple/agreement.yaml")
		if err != nil {
			t.Fatalf("load agreement: %v", err)
		}
		if e.eng, err = engine.New(engine.Config{Agreement: a}); err != nil {
			t.Fatalf("engine.New: %v", err)
		}
		e.events = engine.NewFeed()
		committed = func(entries []journal.Entry) {
			e.feed.Publish(entries)
			e.run.Committed(entries)
		}
	}
	var err error
	e.path = filepath.Join(t.TempDir(), "truce.db")
	e.db, err = sqlite.Open(ctx, e.path, sqlite.Options{Now: testClock, Committed: committed})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	var runDone chan error
	if judging {
		e.run = engine.NewRunner(e.eng, e.db, e.events)
		runDone = make(chan error, 1)
		go func() { runDone <- e.run.Run(ctx) }()
	}
	key, err := evidence.LoadOrCreateKey(evidence.KeyPath(e.path), "truce.test/log", rand.Reader)
	if err != nil {
		t.Fatalf("key: %v", err)
	}
	cfg := Config{
		Notary:   evidence.NewNotary(evidence.New(e.db), key, e.db),
		Store:    e.db,
		Feed:     e.feed,
		Now:      testClock,
		Registry: e.reg,
		Logger:   slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Engine:   e.eng,
		Events:   e.events,
	}
	if edit != nil {
		edit(&cfg)
	}
	if e.s, err = New(cfg); err != nil {
		t.Fatalf("New: %v", err)
	}
	for _, h := range hooks {
		h(e.s)
	}
	h := e.s.Handler()
	e.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		select {
		case e.finished <- r.URL.Path:
		default:
		}
	}))
	t.Cleanup(func() {
		e.feed.Close() // ends the streams, so that Close does not wait for them
		if judging {
			e.events.Close()
			e.run.Close()
			if err := <-runDone; err != nil {
				t.Errorf("runner: %v", err)
			}
		}
		e.ts.Close()
		if err := e.db.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return e
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("server log: %s", bytes.TrimSpace(p))
	return len(p), nil
}

// token makes a token and journals it, returning its secret.
func (e *testEnv) token(t testing.TB, org truce.OrgID, kind truce.OrgKind, role truce.Role) string {
	t.Helper()
	secret, tok, err := auth.New(rand.Reader, org, kind, role, "test "+string(role), testNow)
	if err != nil {
		t.Fatalf("auth.New: %v", err)
	}
	if _, err := e.db.Append(context.Background(), []journal.Entry{{Kind: journal.KindToken, Org: org, Token: &tok}}); err != nil {
		t.Fatalf("journal token: %v", err)
	}
	return secret
}

func (e *testEnv) head(t testing.TB) uint64 {
	t.Helper()
	h, err := e.db.Head(context.Background())
	if err != nil {
		t.Fatalf("Head: %v", err)
	}
	return h
}

// request is one HTTP request of a test.
type request struct {
	method, path string
	token        string // "" for none
	contentType  string
	body         string
	header       map[string]string
}

func (rq request) build(ctx context.Context, base string) *http.Request {
	var body io.Reader
	if rq.body != "" || rq.method == http.MethodPost {
		body = strings.NewReader(rq.body)
	}
	r, err := http.NewRequestWithContext(ctx, rq.method, base+rq.path, body)
	if err != nil {
		panic(err)
	}
	if rq.token != "" {
		r.Header.Set("Authorization", "Bearer "+rq.token)
	}
	if rq.contentType != "" {
		r.Header.Set("Content-Type", rq.contentType)
	}
	for k, v := range rq.header {
		r.Header.Set(k, v)
	}
	return r
}

// do sends rq and returns the response with its body read.
func (e *testEnv) do(t testing.TB, rq request) (*http.Response, []byte) {
	t.Helper()
	resp, err := e.ts.Client().Do(rq.build(context.Background(), e.ts.URL))
	if err != nil {
		t.Fatalf("%s %s: %v", rq.method, rq.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", rq.method, rq.path, err)
	}
	return resp, b
}

// post sends body as ctype with token and decodes the ingest result.
func (e *testEnv) post(t testing.TB, token, ctype, body string) (int, ingestResult) {
	t.Helper()
	resp, b := e.do(t, request{method: "POST", path: "/api/v1/observations", token: token, contentType: ctype, body: body})
	var res ingestResult
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnprocessableEntity {
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatalf("POST: decode %s: %v", b, err)
		}
	}
	return resp.StatusCode, res
}

// ndjson returns n NDJSON observations from source with ids prefix0...
func ndjson(source, prefix string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"source":%q,"source_id":"%s%d","method":"heard","category":"explosion","time":"2026-03-01T10:%02d:%02dZ","lat":48.%04d,"lon":37.8,"cep_m":500,"marking":{"tlp":"GREEN"}}`+"\n",
			source, prefix, i, i/60%60, i%60, i%10000)
	}
	return b.String()
}

// fixture returns a valid canonical observation.
func fixture(source, id string, m truce.Marking) truce.Observation {
	return truce.Observation{
		Source:      source,
		SourceID:    id,
		Method:      truce.MethodSeen,
		Category:    truce.CategoryImpact,
		Count:       1,
		Time:        testNow.Add(-time.Hour),
		Location:    &truce.Location{Point: geo.Point{Lat: 48.1, Lon: 37.9}, CEP: 100},
		Reliability: 'B',
		Credibility: 2,
		Marking:     m,
	}.Canonical()
}

// appendObservations journals observations recorded by org, returning
// their ids.
func (e *testEnv) appendObservations(t testing.TB, org truce.OrgID, obs ...truce.Observation) []uint64 {
	t.Helper()
	entries := make([]journal.Entry, len(obs))
	for i := range obs {
		entries[i] = journal.Entry{Kind: journal.KindObservation, Org: org, Observation: &obs[i]}
	}
	out, err := e.db.Append(context.Background(), entries)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	ids := make([]uint64, len(out))
	for i, o := range out {
		ids[i] = o.Seq
	}
	return ids
}

// sseEvent is one block of an event stream: an event, a comment or a
// retry announcement.
type sseEvent struct {
	id, event, data, comment, retry string
}

type sseReader struct{ r *bufio.Reader }

// next returns the next block of the stream.
func (s *sseReader) next() (sseEvent, error) {
	var ev sseEvent
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			if err == io.EOF && line != "" {
				err = io.ErrUnexpectedEOF
			}
			return ev, err
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			return ev, nil
		}
		if c, ok := strings.CutPrefix(line, ":"); ok {
			ev.comment = strings.TrimSpace(c)
			continue
		}
		name, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch name {
		case "id":
			ev.id = value
		case "event":
			ev.event = value
		case "data":
			ev.data = value
		case "retry":
			ev.retry = value
		}
	}
}

// nextEvent skips comments and retry announcements.
func (s *sseReader) nextEvent() (sseEvent, error) {
	for {
		ev, err := s.next()
		if err != nil || ev.event != "" || ev.data != "" {
			return ev, err
		}
	}
}

// openStream opens the event stream; the caller cancels ctx to close it.
func (e *testEnv) openStream(t testing.TB, ctx context.Context, token, lastEventID, query string) *sseReader {
	t.Helper()
	r, err := e.openStreamErr(ctx, token, lastEventID, query)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (e *testEnv) openStreamErr(ctx context.Context, token, lastEventID, query string) (*sseReader, error) {
	rq := request{method: "GET", path: "/api/v1/stream" + query, token: token}
	if lastEventID != "" {
		rq.header = map[string]string{"Last-Event-ID": lastEventID}
	}
	resp, err := e.ts.Client().Do(rq.build(ctx, e.ts.URL))
	if err != nil {
		return nil, fmt.Errorf("open stream: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return nil, fmt.Errorf("open stream: got status %d (%s), want 200", resp.StatusCode, b)
	}
	if got := resp.Header.Get("Content-Type"); got != "text/event-stream" {
		resp.Body.Close()
		return nil, fmt.Errorf("stream Content-Type: got %q, want text/event-stream", got)
	}
	go func() { <-ctx.Done(); resp.Body.Close() }()
	return &sseReader{r: bufio.NewReader(resp.Body)}, nil
}

// waitFinished waits until a request to path has been fully handled.
func (e *testEnv) waitFinished(t testing.TB, path string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case p := <-e.finished:
			if p == path {
				return
			}
		case <-timeout:
			t.Fatalf("request to %s not finished after 10s", path)
		}
	}
}

// appendJudged journals observations recorded by org, like
// appendObservations, and waits until the engine has judged the last of
// them (its incident event is published): every commit before has then
// been judged, and what the engine derived from it journaled.
func (e *testEnv) appendJudged(t testing.TB, org truce.OrgID, obs ...truce.Observation) []uint64 {
	t.Helper()
	sub := e.events.Subscribe(1 << 16)
	defer sub.Close()
	ids := e.appendObservations(t, org, obs...)
	last := ids[len(ids)-1]
	timeout := time.After(10 * time.Second)
	for {
		select {
		case batch, ok := <-sub.C:
			if !ok {
				t.Fatalf("events feed ended (lost: %v) before observation %d was judged", sub.Lost(), last)
			}
			for _, ev := range batch {
				if ev.Kind == engine.EventIncident && slices.ContainsFunc(ev.Incident.Observations, func(r truce.ObservationRef) bool { return r.ID == last }) {
					return ids
				}
			}
		case <-timeout:
			t.Fatalf("observation %d not judged after 10s", last)
		}
	}
}

// settle waits until the engine has judged every entry and journaled what
// it derived, and returns the journal's last entry: a marker observation,
// CLEAR, a damage report outside every sector (so that it breaks no rule
// and changes no level), which every reader sees. It appends two: when the
// first is judged, the entries derived before it are journaled, perhaps
// after it; the second comes after them.
func (e *testEnv) settle(t testing.TB) uint64 {
	t.Helper()
	var last uint64
	for range 2 {
		e.marks++
		o := marker(e.marks)
		last = e.appendJudged(t, orgRecorder, o)[0]
	}
	if h := e.head(t); h != last {
		t.Fatalf("settle: the journal's head is %d, want the marker %d", h, last)
	}
	return last
}

// markerSource is the source of settle's markers.
const markerSource = "marker"

func marker(n int) truce.Observation {
	o := fixture(markerSource, fmt.Sprint("m", n), truce.Marking{TLP: truce.TLPClear})
	o.Category = truce.CategoryDamage
	o.Location.Point = geo.Point{Lat: 49.6, Lon: 35 + 0.1*float64(n)}
	return o.Canonical()
}
