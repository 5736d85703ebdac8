package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/goccy/go-json"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/store"
	"github.com/truce-dev/truce/internal/truce"
)

// replayPage is how many entries the stream reads from the store at once.
const replayPage = 512

// replayRetries is how many times the stream starts its replay again when
// the feed dropped it while it replayed (the backlog was longer than its
// buffer), before it gives up and tells the client it lost track.
const replayRetries = 3

// tokenEvent is the data of an "event: token": a token was created. The
// hash is never sent.
type tokenEvent struct {
	ID      string `json:"id"`
	Org     string `json:"org"`
	Kind    string `json:"kind"`
	Role    string `json:"role"`
	Label   string `json:"label,omitempty"`
	Created string `json:"created"`
}

// lostEvent is the data of an "event: lost": the client fell behind and
// the stream ends; reconnect with Last-Event-ID set to LastEventID.
type lostEvent struct {
	LastEventID string `json:"last_event_id"`
}

// stream sends the journal entries the caller may see as Server-Sent
// Events: those after Last-Event-ID (or ?after=) from the store, then the
// live ones from the feed, each once, in order.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if !p.CanRead() {
		forbidden(w, p, "read the stream")
		return
	}
	after, resume, err := streamStart(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx := r.Context()
	// Subscribe before reading the store, so that nothing committed in
	// between is missed; what both hold is skipped by sequence number.
	sub := s.cfg.Feed.Subscribe(s.cfg.StreamBuffer)
	defer func() { sub.Close() }()
	head, err := s.cfg.Store.Head(ctx)
	if err != nil {
		s.writeError(w, r, fmt.Errorf("httpapi: stream: %w", err))
		return
	}
	switch {
	case !resume:
		after = head
	case after > head:
		s.writeError(w, r, invalid("Last-Event-ID", fmt.Sprintf("event %d is beyond the journal's last entry, %d", after, head)))
		return
	}

	s.metrics.streamClients.Inc()
	defer s.metrics.streamClients.Dec()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	st := &streamer{s: s, w: w, rc: http.NewResponseController(w), p: p, last: after}
	st.buf = fmt.Appendf(st.buf[:0], "retry: %d\n\n", s.retry.Milliseconds())
	if st.flush() != nil {
		return
	}

	for attempt := 0; ; attempt++ {
		if err := st.replay(ctx, 0); err != nil {
			st.fail(ctx, err)
			return
		}
		if !sub.Lost() || attempt == replayRetries {
			break
		}
		// The backlog outran the subscription's buffer: follow the feed
		// again from here.
		sub.Close()
		sub = s.cfg.Feed.Subscribe(s.cfg.StreamBuffer)
	}

	heartbeat := time.NewTicker(s.heartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-heartbeat.C:
			// Entries another process journaled (truce ingest --db, token
			// create) reach no feed here: look for them now and then.
			if head, err := s.cfg.Store.Head(ctx); err == nil && head > st.last {
				if err := st.replay(ctx, head); err != nil {
					st.fail(ctx, err)
					return
				}
			}
			st.buf = append(st.buf[:0], ": ping\n\n"...)
			if st.flush() != nil {
				return
			}
		case batch, ok := <-sub.C:
			if !ok {
				if sub.Lost() {
					st.lost()
				}
				return // lost, or the feed closed: the server is shutting down
			}
			for i := range batch {
				e := &batch[i]
				if e.Seq <= st.last {
					continue
				}
				if e.Seq > st.last+1 {
					// Journaled but not published here (by another process):
					// read them from the store first.
					if err := st.replay(ctx, e.Seq-1); err != nil {
						st.fail(ctx, err)
						return
					}
				}
				if err := st.send(e); err != nil {
					return
				}
			}
		}
	}
}

// writeTimeout bounds how long one write to a stream client may block.
const writeTimeout = 30 * time.Second

// streamStart returns the sequence number after which to stream, and
// whether the client asked for one (else the stream starts at the head).
func streamStart(r *http.Request) (after uint64, resume bool, err error) {
	for name := range r.URL.Query() {
		if name != "after" {
			return 0, false, invalid(name, "unknown parameter (want after)")
		}
	}
	name, v := "Last-Event-ID", r.Header.Get("Last-Event-ID")
	if v == "" {
		name, v = "after", r.URL.Query().Get("after")
	}
	if v == "" {
		return 0, false, nil
	}
	after, err = strconv.ParseUint(v, 10, 63)
	if err != nil {
		return 0, false, invalid(name, fmt.Sprintf("%q is not an event id (a journal sequence number)", v))
	}
	return after, true, nil
}

// streamer writes the events of one stream.
type streamer struct {
	s    *Server
	w    http.ResponseWriter
	rc   *http.ResponseController
	p    truce.Principal
	last uint64 // the last entry handled: sent, or not visible to p
	buf  []byte
}

// errClientGone wraps the failure to write to the client.
var errClientGone = errors.New("writing to the client")

// flush writes buf and flushes it to the client. A client that takes more
// than writeTimeout to take an event is dropped.
func (st *streamer) flush() error {
	// A network deadline is wall-clock time, not the domain's clock.
	if err := st.rc.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return fmt.Errorf("%w: %w", errClientGone, err)
	}
	_, err := st.w.Write(st.buf)
	if err == nil {
		err = st.rc.Flush()
	}
	if err != nil {
		return fmt.Errorf("%w: %w", errClientGone, err)
	}
	return nil
}

// event appends e's event to buf if p may see e, reporting whether it did.
func (st *streamer) event(e *journal.Entry) (bool, error) {
	if !st.p.CanSee(e.Marking(), e.Org) {
		return false, nil
	}
	var (
		kind string
		data any
	)
	switch {
	case e.Kind == journal.KindObservation && e.Observation != nil:
		rec := record(&store.ObservationRecord{ID: e.Seq, Recorded: e.Time, Org: e.Org, Observation: *e.Observation})
		kind, data = "observation", rec
	case e.Kind == journal.KindToken && e.Token != nil:
		if st.p.Role != truce.RoleAdmin {
			return false, nil // administration: for its organisation's admins only
		}
		t := e.Token
		created := t.Created
		if created.IsZero() {
			created = e.Time
		}
		kind, data = "token", tokenEvent{ID: t.ID, Org: string(t.Org), Kind: string(t.Kind), Role: string(t.Role), Label: t.Label, Created: created.UTC().Format(time.RFC3339Nano)}
	default:
		return false, nil // a kind this API does not stream
	}
	b, err := json.Marshal(data)
	if err != nil {
		return false, fmt.Errorf("httpapi: stream entry %d: %w", e.Seq, err)
	}
	st.buf = fmt.Appendf(st.buf, "id: %d\nevent: %s\ndata: ", e.Seq, kind)
	st.buf = append(st.buf, b...)
	st.buf = append(st.buf, '\n', '\n')
	return true, nil
}

// send writes e's event if p may see it.
func (st *streamer) send(e *journal.Entry) error {
	st.buf = st.buf[:0]
	ok, err := st.event(e)
	if err != nil {
		return err
	}
	st.last = e.Seq
	if !ok {
		return nil
	}
	return st.flush()
}

// replay sends the store's entries after st.last, up to upTo (0: to the
// end of the journal).
func (st *streamer) replay(ctx context.Context, upTo uint64) error {
	type pending struct {
		seq  uint64
		data []byte // nil: not visible
	}
	var evs []pending
	for upTo == 0 || st.last < upTo {
		limit := replayPage
		if upTo != 0 && upTo-st.last < replayPage {
			limit = int(upTo - st.last)
		}
		evs = evs[:0]
		// Encode inside the callback (e is valid only there), write
		// outside it, so that a slow client holds no read transaction.
		err := st.s.cfg.Store.Entries(ctx, st.last, limit, func(e *journal.Entry, _ []byte) error {
			st.buf = st.buf[:0]
			ok, err := st.event(e)
			if err != nil {
				return err
			}
			ev := pending{seq: e.Seq}
			if ok {
				ev.data = append([]byte(nil), st.buf...)
			}
			evs = append(evs, ev)
			return nil
		})
		if err != nil {
			return fmt.Errorf("httpapi: stream: replay after %d: %w", st.last, err)
		}
		for _, ev := range evs {
			st.last = ev.seq
			if ev.data == nil {
				continue
			}
			st.buf = ev.data
			if err := st.flush(); err != nil {
				return err
			}
		}
		if len(evs) < limit {
			return nil // the end of the journal
		}
	}
	return nil
}

// lost tells the client it fell behind and where to resume.
func (st *streamer) lost() {
	b, _ := json.Marshal(lostEvent{LastEventID: strconv.FormatUint(st.last, 10)})
	st.buf = append(st.buf[:0], "event: lost\ndata: "...)
	st.buf = append(st.buf, b...)
	st.buf = append(st.buf, '\n', '\n')
	st.flush()
}

// fail ends a stream on err: logged unless the client went away, with an
// "event: error" carrying an error id, since the status was sent already.
func (st *streamer) fail(ctx context.Context, err error) {
	if ctx.Err() != nil || errors.Is(err, errClientGone) {
		return
	}
	id := errorID()
	st.s.log.Error("stream", "error_id", id, "error", err)
	b, _ := json.Marshal(errorBody{Error: "internal error", ErrorID: id})
	st.buf = append(st.buf[:0], "event: error\ndata: "...)
	st.buf = append(st.buf, b...)
	st.buf = append(st.buf, '\n', '\n')
	st.flush()
}
