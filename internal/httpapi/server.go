package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/truce-dev/truce/internal/deconflict"
	"github.com/truce-dev/truce/internal/engine"
	"github.com/truce-dev/truce/internal/evidence"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/pledge"
	"github.com/truce-dev/truce/internal/store"
	"github.com/truce-dev/truce/internal/truce"
)

// Defaults of Config's optional fields.
const (
	DefaultMaxBodyBytes = 16 << 20
	DefaultMaxRecords   = 20000
	DefaultStreamBuffer = 64
	// DefaultConcurrentIngest is how many POSTs of observations are decoded
	// at once; more wait their turn. With MaxRecords it bounds the memory
	// ingest may hold.
	DefaultConcurrentIngest = 4
	// maxListedRejections is how many rejected records one answer lists;
	// rejected_count says how many there were.
	maxListedRejections = 1000
	// bodyTimeout is how long a client may take to send a request body.
	bodyTimeout      = 2 * time.Minute
	defaultHeartbeat = 15 * time.Second
	defaultRetry     = 2 * time.Second
)

// Config is what a Server needs. Store, Feed and Now are required.
type Config struct {
	Store store.Store
	// Feed carries the entries Store commits (the store's Committed hook
	// publishes into it). Closing it ends every stream.
	Feed *journal.Feed
	Now  func() time.Time
	// Parties are the agreement's parties, passed to the ingest decoder;
	// nil when no agreement is loaded.
	Parties []truce.PartyID
	// MaxBodyBytes bounds a request body (DefaultMaxBodyBytes when 0).
	MaxBodyBytes int64
	// MaxRecords bounds the records of one request (DefaultMaxRecords
	// when 0): a bigger batch is answered 413 and nothing is journaled.
	MaxRecords int
	// StreamBuffer is how many commits a stream client may fall behind the
	// feed before it is dropped (DefaultStreamBuffer when 0).
	StreamBuffer int
	// Logger receives request errors; nil discards them.
	Logger *slog.Logger
	// Registry is where the server registers its metrics and what /metrics
	// serves; nil makes a registry of its own.
	Registry *prometheus.Registry
	// Ready answers /readyz: nil error means ready. A nil Ready is always
	// ready.
	Ready func() error
	// Engine keeps the incidents, violations and sector levels that
	// /api/v1/incidents, /violations and /sectors serve; nil when no
	// agreement is loaded (they answer 503 then).
	Engine *engine.Engine
	// Events carries the engine's judgements to the stream (the
	// engine.Runner publishes into it); nil streams none.
	Events *engine.Feed
	// Notary signs the evidence log's checkpoints over Store's tree;
	// nil when the server keeps no signing key (the log routes answer
	// 503 then).
	Notary *evidence.Notary
	// Planner decides the coalition's activities and Monitor judges its
	// units' positions; nil without an agreement (the activity and track
	// routes answer 503 then).
	Planner *deconflict.Planner
	Monitor *deconflict.Monitor
	// Book keeps the coalition's commitments; nil answers 503 on their
	// routes.
	Book *pledge.Book
}

// Server serves truce's HTTP API. Make one with New.
type Server struct {
	cfg     Config
	log     *slog.Logger
	mux     *http.ServeMux
	metrics *metrics

	ingesting chan struct{} // a slot per POST of observations being decoded

	leaves leafIndex // leaf hash -> index, for inclusion proofs by hash

	tokensMu sync.RWMutex
	tokens   map[[32]byte]truce.Token // cache of tokens found in the store

	windows windowBook // the windows of silence, up to the journal's head

	bookSync sync.Mutex // serialises catching the Book up with the journal
	bookSeq  uint64     // the last journal entry the Book was caught up with

	// Set by tests before serving.
	heartbeat     time.Duration                // interval of ": ping" on streams
	retry         time.Duration                // the "retry:" a stream announces
	observeCommit func(d time.Duration, n int) // called after each ingest Append
}

// route is one pattern the server serves.
type route struct {
	method, path string
	auth         bool // needs a bearer token
	optional     bool // takes a token, and serves the public without one
	handle       func(s *Server, w http.ResponseWriter, r *http.Request)
}

func (rt route) pattern() string { return rt.method + " " + rt.path }

// routeTable lists every route: the mux is built from it, and the OpenAPI
// test checks the document against it.
func routeTable() []route {
	return []route{
		{http.MethodPost, "/api/v1/observations", true, false, (*Server).postObservations},
		{http.MethodGet, "/api/v1/observations", true, false, (*Server).listObservations},
		{http.MethodGet, "/api/v1/observations/{id}", true, false, (*Server).getObservation},
		{http.MethodGet, "/api/v1/incidents", true, false, (*Server).listIncidents},
		{http.MethodGet, "/api/v1/incidents/{id}", true, false, (*Server).getIncident},
		{http.MethodGet, "/api/v1/violations", true, false, (*Server).listViolations},
		{http.MethodGet, "/api/v1/sectors", true, false, (*Server).listSectors},
		{http.MethodPost, "/api/v1/windows", true, false, (*Server).postWindow},
		{http.MethodGet, "/api/v1/windows", true, false, (*Server).listWindows},
		{http.MethodGet, "/api/v1/windows/{id}", true, false, (*Server).getWindow},
		{http.MethodPost, "/api/v1/windows/{id}/acknowledge", true, false, (*Server).acknowledgeWindow},
		{http.MethodPost, "/api/v1/activities", true, false, (*Server).postActivity},
		{http.MethodPost, "/api/v1/activities/check", true, false, (*Server).checkActivity},
		{http.MethodGet, "/api/v1/activities", true, false, (*Server).listActivities},
		{http.MethodGet, "/api/v1/activities/{id}", true, false, (*Server).getActivity},
		{http.MethodPut, "/api/v1/activities/{id}", true, false, (*Server).putActivity},
		{http.MethodPost, "/api/v1/activities/{id}/activate", true, false, transition(truce.ActivityActive)},
		{http.MethodPost, "/api/v1/activities/{id}/end", true, false, transition(truce.ActivityEnded)},
		{http.MethodPost, "/api/v1/activities/{id}/cancel", true, false, transition(truce.ActivityCancelled)},
		{http.MethodPost, "/api/v1/tracks", true, false, (*Server).postTracks},
		{http.MethodGet, "/api/v1/tracks", true, false, (*Server).listTracks},
		{http.MethodGet, "/api/v1/pledges", true, false, (*Server).listPledges},
		{http.MethodPost, "/api/v1/pledges", true, false, (*Server).postPledge},
		{http.MethodGet, "/api/v1/pledges/{id}", true, false, (*Server).getPledge},
		{http.MethodPost, "/api/v1/pledges/{id}/stage", true, false, (*Server).advancePledge},
		{http.MethodGet, "/api/v1/requirements", true, false, (*Server).listRequirements},
		{http.MethodPost, "/api/v1/requirements", true, false, (*Server).putRequirement},
		{http.MethodPut, "/api/v1/requirements/{id}", true, false, (*Server).putRequirement},
		{http.MethodGet, "/api/v1/gaps", true, false, (*Server).listGaps},
		{http.MethodGet, "/api/v1/activations", true, false, (*Server).listActivations},
		{http.MethodPost, "/api/v1/activations/{id}/acknowledge", true, false, (*Server).acknowledgeActivation},
		{http.MethodGet, "/api/v1/support", true, false, (*Server).listSupport},
		{http.MethodPost, "/api/v1/support", true, false, (*Server).postSupport},
		{http.MethodGet, "/api/v1/stream", true, false, (*Server).stream},
		{http.MethodGet, "/api/v1/log/checkpoint", false, true, (*Server).getCheckpoint},
		{http.MethodGet, "/api/v1/log/entries", false, true, (*Server).listLogEntries},
		{http.MethodGet, "/api/v1/log/proof/inclusion", false, true, (*Server).inclusionProof},
		{http.MethodGet, "/api/v1/log/proof/consistency", false, true, (*Server).consistencyProof},
		{http.MethodGet, "/api/v1/log/tile/{path...}", false, true, (*Server).getTile},
		{http.MethodGet, "/api/v1/openapi.json", false, false, (*Server).openAPI},
		{http.MethodGet, "/healthz", false, false, (*Server).healthz},
		{http.MethodGet, "/readyz", false, false, (*Server).readyz},
		{http.MethodGet, "/metrics", false, false, nil}, // promhttp, set in New
	}
}

// New returns a server for cfg, its metrics registered in cfg.Registry.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("httpapi: new server: no store")
	case cfg.Feed == nil:
		return nil, errors.New("httpapi: new server: no feed")
	case cfg.Now == nil:
		return nil, errors.New("httpapi: new server: no clock")
	case cfg.MaxBodyBytes < 0 || cfg.StreamBuffer < 0 || cfg.MaxRecords < 0:
		return nil, errors.New("httpapi: new server: negative limit")
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.StreamBuffer == 0 {
		cfg.StreamBuffer = DefaultStreamBuffer
	}
	if cfg.MaxRecords == 0 {
		cfg.MaxRecords = DefaultMaxRecords
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	s := &Server{
		cfg:       cfg,
		log:       cfg.Logger,
		mux:       http.NewServeMux(),
		tokens:    map[[32]byte]truce.Token{},
		ingesting: make(chan struct{}, DefaultConcurrentIngest),
		heartbeat: defaultHeartbeat,
		retry:     defaultRetry,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	for _, rt := range routeTable() {
		var h http.Handler
		if rt.handle == nil {
			h = m.handler(cfg.Registry)
		} else {
			handle := rt.handle
			h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handle(s, w, r) })
		}
		if rt.auth {
			h = s.authenticate(h)
		} else if rt.optional {
			h = s.optionalAuth(h)
		}
		s.mux.Handle(rt.pattern(), s.instrument(rt.pattern(), h))
	}
	return s, nil
}

// Handler returns the handler serving every route.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := s.mux.Handler(r); pattern == "" {
		// No route: the mux answers 404, or 405 with Allow; make its
		// plain text body JSON like every other error.
		s.instrument("unmatched", s.mux).ServeHTTP(&jsonStatusWriter{ResponseWriter: w}, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Ready != nil {
		if err := s.cfg.Ready(); err != nil {
			writeErrorMessage(w, http.StatusServiceUnavailable, "not ready: "+err.Error())
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ready\n"))
}

// statusWriter records the status code a handler sent.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// jsonStatusWriter replaces the mux's plain text 404 and 405 bodies by
// JSON error bodies.
type jsonStatusWriter struct {
	http.ResponseWriter
	swallow bool
}

func (w *jsonStatusWriter) WriteHeader(code int) {
	if code == http.StatusNotFound || code == http.StatusMethodNotAllowed {
		w.swallow = true
		msg := "no such route"
		if code == http.StatusMethodNotAllowed {
			msg = "method not allowed"
		}
		writeErrorMessage(w.ResponseWriter, code, msg)
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *jsonStatusWriter) Write(b []byte) (int, error) {
	if w.swallow {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *jsonStatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
