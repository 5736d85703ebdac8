// Package server wires truce together for `truce serve`: it opens the
// store, connects the journal's feed to the HTTP API, makes the bootstrap
// token on an empty database, listens, and shuts down gracefully (streams
// are ended, in-flight requests finish, the journal is closed cleanly).
//
// It is the one place, with internal/cli, allowed to read the wall clock
// and the system's randomness; it hands them to the packages below.
package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/truce-dev/truce/internal/agreement"
	"github.com/truce-dev/truce/internal/auth"
	"github.com/truce-dev/truce/internal/deconflict"
	"github.com/truce-dev/truce/internal/engine"
	"github.com/truce-dev/truce/internal/evidence"
	"github.com/truce-dev/truce/internal/httpapi"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/pledge"
	"github.com/truce-dev/truce/internal/store"
	"github.com/truce-dev/truce/internal/store/sqlite"
	"github.com/truce-dev/truce/internal/truce"
)

// Options configure a server.
type Options struct {
	DB        string // SQLite file, made if missing
	Addr      string // listen address, host:port; port 0 picks one
	Agreement string // agreement file; "" for none (party claims are then not checked against parties)
	// Origin names the evidence log in its checkpoints, and its signing
	// key (kept beside DB, made on first start). "" takes the existing
	// key's, or else "truce.local/<agreement id>" ("truce.local/journal"
	// without an agreement).
	Origin string

	// CoTAddr, when set, is the host:port where TAK clients connect (TCP
	// and UDP); CoTNation is the nation their friendly units belong to.
	// Both need an agreement.
	CoTAddr   string
	CoTNation truce.NationID
	// CoTMarkers maps CoT marker types to the observation category they
	// report (see CoTOptions.Markers).
	CoTMarkers map[string]truce.Category
	// AckWithin is how long a nation has to acknowledge an activation of
	// its contingent pledge (0: pledge.DefaultAckWithin).
	AckWithin time.Duration

	MaxBodyBytes    int64         // request body limit; 0 for the API's default
	ShutdownTimeout time.Duration // how long in-flight requests may take to finish; 0 for 10 s

	// Out receives what an operator must see once: the bootstrap token.
	Out    io.Writer
	Logger *slog.Logger
	// Listening, if set, is called with the bound address once the server
	// accepts connections.
	Listening func(addr net.Addr)
}

// Run serves until ctx is done, then shuts down gracefully.
func Run(ctx context.Context, opts Options) error {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var (
		parties []truce.PartyID
		agr     *truce.Agreement
		eng     *engine.Engine
		origin  = "truce.local/journal"
	)
	if opts.CoTAddr != "" && (opts.Agreement == "" || opts.CoTNation == "") {
		return errors.New("serve: the TAK/CoT listener needs an agreement and the nation of its units (--agreement, --cot-nation)")
	}
	if opts.Agreement != "" {
		a, err := agreement.Load(opts.Agreement)
		if err != nil {
			return err
		}
		for _, p := range a.Parties {
			parties = append(parties, p.ID)
		}
		origin = "truce.local/" + a.ID
		agr = a
		if eng, err = engine.New(engine.Config{Agreement: a}); err != nil {
			return err
		}
	}

	// Each commit goes to the stream's feed and, with an agreement, to the
	// engine that fuses, assesses and escalates.
	feed, events := journal.NewFeed(), engine.NewFeed()
	var runner atomic.Pointer[engine.Runner]
	db, err := sqlite.Open(ctx, opts.DB, sqlite.Options{Now: time.Now, Committed: func(es []journal.Entry) {
		feed.Publish(es)
		if r := runner.Load(); r != nil {
			r.Committed(es)
		}
	}})
	if err != nil {
		return err
	}
	defer db.Close()
	ran := make(chan error, 1)
	if eng != nil {
		r := engine.NewRunner(eng, db, events)
		runner.Store(r)
		start := time.Now()
		if err := r.CatchUp(ctx); err != nil {
			return err
		}
		log.Info("judged the journal", "entries", eng.Head(), "took", time.Since(start).Round(time.Millisecond))
		go func() { ran <- r.Run(context.WithoutCancel(ctx)) }()
	} else {
		ran <- nil
	}
	var (
		planner *deconflict.Planner
		monitor *deconflict.Monitor
	)
	if agr != nil {
		start := time.Now()
		if planner, monitor, err = Force(ctx, agr, db); err != nil {
			return err
		}
		log.Info("deconfliction", "activities", len(planner.Activities(deconflict.Filter{})), "reserved_volumes", planner.Reserved(), "took", time.Since(start).Round(time.Millisecond))
	}
	start := time.Now()
	book, fired, err := Commitments(ctx, db, pledge.Options{AckWithin: opts.AckWithin})
	if err != nil {
		return err
	}
	// A trigger that fired while no server followed the journal.
	for _, t := range fired {
		if _, err := Activate(ctx, book, db, t); err != nil {
			return err
		}
	}
	head, err := db.Head(ctx)
	if err != nil {
		return err
	}
	log.Info("commitments", "pledges", len(book.Pledges(nil)), "requirements", len(book.Requirements(nil)), "took", time.Since(start).Round(time.Millisecond))
	following := make(chan struct{})
	go func() {
		defer close(following)
		followTriggers(context.WithoutCancel(ctx), book, db, feed, head, log)
	}()
	overdueCtx, stopOverdue := context.WithCancel(context.WithoutCancel(ctx))
	watching := make(chan struct{})
	go func() {
		defer close(watching)
		watchOverdue(overdueCtx, book, db, time.Minute, time.Now, log)
	}()
	// On every return, before the journal closes.
	defer func() { feed.Close(); stopOverdue(); <-following; <-watching }()
	if err := Bootstrap(ctx, db, opts.Out, rand.Reader, time.Now()); err != nil {
		return err
	}
	notary, err := Notary(db, opts.DB, opts.Origin, origin)
	if err != nil {
		return err
	}
	log.Info("evidence log", "origin", notary.Key().Origin(), "verifier_key", notary.Key().VerifierKey, "leaves", db.TreeSize())

	var stopping atomic.Bool
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	api, err := httpapi.New(httpapi.Config{
		Store:        db,
		Feed:         feed,
		Engine:       eng,
		Events:       events,
		Notary:       notary,
		Planner:      planner,
		Monitor:      monitor,
		Book:         book,
		Now:          time.Now,
		Parties:      parties,
		MaxBodyBytes: opts.MaxBodyBytes,
		Logger:       log,
		Registry:     reg,
		Ready: func() error {
			if stopping.Load() {
				return errors.New("shutting down")
			}
			if _, err := db.Head(ctx); err != nil {
				return fmt.Errorf("journal: %w", err)
			}
			if r := runner.Load(); r != nil {
				if err := r.Err(); err != nil {
					return fmt.Errorf("engine: %w", err)
				}
			}
			return nil
		},
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	cotDone := make(chan error, 1)
	cotCtx, stopCoT := context.WithCancel(context.WithoutCancel(ctx))
	defer stopCoT()
	if opts.CoTAddr != "" {
		bridge := NewCoTBridge(CoTOptions{Addr: opts.CoTAddr, Nation: opts.CoTNation, Markers: opts.CoTMarkers, Parties: parties}, agr, api.ReportTracks, log, time.Now)
		bridge.Journal = func(ctx context.Context, es []journal.Entry) error {
			_, err := db.Append(ctx, es)
			return err
		}
		go func() { cotDone <- bridge.Run(cotCtx, events) }()
		select {
		case <-bridge.Server.Ready():
			tcp, udp := bridge.Server.Addrs()
			log.Info("TAK/CoT listening", "tcp", tcp.String(), "udp", udp.String(), "nation", opts.CoTNation)
		case err := <-cotDone:
			ln.Close()
			return fmt.Errorf("serve: TAK/CoT listener: %w", err)
		}
	} else {
		cotDone <- nil
	}
	srv := &http.Server{
		Handler:           api.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "db", opts.DB)
	if opts.Listening != nil {
		opts.Listening(ln.Addr())
	}

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	stopping.Store(true)
	feed.Close() // ends every stream and the trigger follower, so Shutdown need not wait for them
	events.Close()
	timeout := opts.ShutdownTimeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown: requests still running were cut off", "err", err)
		srv.Close()
	}
	<-following
	stopCoT()
	if err := <-cotDone; err != nil {
		log.Warn("TAK/CoT listener", "err", err)
	}
	if r := runner.Load(); r != nil {
		r.Close()
	}
	if err := <-ran; err != nil {
		log.Error("engine", "err", err)
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("serve: close journal: %w", err)
	}
	log.Info("stopped")
	return nil
}

// Notary returns the signer of the checkpoints of the evidence log kept in
// st, the database at dbPath: its key is read from beside the database, or
// made there on first use, named origin (or, when origin is "", the
// existing key's name, or else fallback).
func Notary(st store.Store, dbPath, origin, fallback string) (*evidence.Notary, error) {
	path := evidence.KeyPath(dbPath)
	key, err := evidence.LoadOrCreateKey(path, origin, rand.Reader)
	if err != nil && origin == "" {
		key, err = evidence.LoadOrCreateKey(path, fallback, rand.Reader)
	}
	if err != nil {
		return nil, err
	}
	return evidence.NewNotary(evidence.New(st), key, st), nil
}

// Bootstrap makes an admin token for the coalition when the store has
// none, and prints it to out once: the first operator's way in.
func Bootstrap(ctx context.Context, s store.Store, out io.Writer, rand io.Reader, now time.Time) error {
	toks, err := s.Tokens(ctx)
	if err != nil {
		return err
	}
	if len(toks) > 0 {
		return nil
	}
	secret, tok, err := auth.New(rand, "coalition", truce.OrgCoalition, truce.RoleAdmin, "bootstrap", now)
	if err != nil {
		return err
	}
	if err := CreateToken(ctx, s, tok); err != nil {
		return err
	}
	if out != nil {
		fmt.Fprintf(out, "This is a new database. Bootstrap admin token for organisation coalition (shown once, keep it safe):\n%s\n", secret)
	}
	return nil
}

// CreateToken journals the creation of tok.
func CreateToken(ctx context.Context, s store.Store, tok truce.Token) error {
	entries := []journal.Entry{{Kind: journal.KindToken, Org: tok.Org, Token: &tok}}
	if _, err := s.Append(ctx, entries); err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	return nil
}
