package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/goccy/go-json"
	"github.com/truce-dev/truce/internal/api"
	"github.com/truce-dev/truce/internal/engine"
	"github.com/truce-dev/truce/internal/feed"
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

// mergedEvent is the data of an "event: incident_merged": incident ID was
// merged into incident Into and is no more.
type mergedEvent struct {
	ID   string `json:"id"`
	Into string `json:"into"`
}

// stream sends the journal entries the caller may see as Server-Sent
// Events: those after Last-Event-ID (or ?after=) from the store, then the
// live ones from the feed, each once, in order. Beside them it sends the
// engine's judgements (incidents, violations, merges) that the caller may
// see, without ids: they are projections, not journal entries. A stream
// that resumes also gets the current state of every incident changed
// after its starting point.
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
	var judged *feed.Subscription[engine.Event] // nil: no engine events
	judgedTo := ^uint64(0)
	if s.cfg.Events != nil {
		if s.cfg.Engine != nil {
			// Events of entries up to here were published before the
			// subscription, or will reach it.
			judgedTo = s.cfg.Engine.Head()
		}
		judged = s.cfg.Events.Subscribe(s.cfg.StreamBuffer)
		defer func() { judged.Close() }()
	}
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
	st := &streamer{s: s, w: w, rc: http.NewResponseController(w), p: p, last: after, judging: judged != nil, judgedTo: min(after, judgedTo)}
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

	// The incidents changed since the client's starting point: on resume,
	// or when the engine's events overflowed during the replay.
	lostJudged := judged != nil && judged.Lost()
	if lostJudged {
		judged.Close()
		judged = s.cfg.Events.Subscribe(s.cfg.StreamBuffer)
	}
	if s.cfg.Engine != nil && (resume || lostJudged) {
		if err := st.since(after); err != nil {
			st.fail(ctx, err)
			return
		}
	}
	var judgedC <-chan []engine.Event // nil, and never ready, without events
	if judged != nil {
		judgedC = judged.C
	}

	heartbeat := time.NewTicker(s.heartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-heartbeat.C:
			if s.cfg.Engine != nil && judged != nil {
				// Entries with no judgements (tokens, levels) move no
				// event: the engine's head says how far it has judged.
				// Read before looking: what it published up to there is
				// in the channel, unless in flight this very moment.
				if h := s.cfg.Engine.Head(); len(judged.C) == 0 {
					st.judgedTo = max(st.judgedTo, min(h, st.last))
				}
			}
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
					if judged != nil {
						st.drain(judged)
					}
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
		case batch, ok := <-judgedC:
			if !ok {
				if judged.Lost() {
					st.lost()
				}
				return
			}
			for i := range batch {
				if err := st.judgement(&batch[i]); err != nil {
					st.fail(ctx, err)
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
	// judgedTo is the last journal entry whose engine events reached the
	// stream (sent, or not visible to p): events come in batches of
	// increasing entries, so the ones a lost subscription dropped are all
	// of later entries.
	judgedTo uint64
	judging  bool // the stream follows the engine's events
	// snapshot is the engine's head when the stream sent the incidents
	// changed since its start: later incident and violation events of
	// entries up to it are older news, and are skipped.
	snapshot uint64
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
	origin := e.Org
	if e.Kind == journal.KindPledge && e.Pledge != nil {
		origin = e.Pledge.Nation // as the pledge routes judge it: the nation's own
	}
	if !st.p.CanSee(e.Marking(), origin) {
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
	case e.Kind == journal.KindLevel && e.Level != nil:
		kind, data = string(journal.KindLevel), api.FromLevelChange(e.Level)
	case e.Kind == journal.KindTrigger && e.Trigger != nil:
		kind, data = string(journal.KindTrigger), api.FromTrigger(e.Trigger)
	case e.Kind == journal.KindActivity && e.Activity != nil && st.p.CanSeeForce():
		kind, data = string(journal.KindActivity), api.FromActivity(e.Activity)
	case e.Kind == journal.KindTrackAlert && e.Alert != nil && st.p.CanSeeForce():
		kind, data = string(journal.KindTrackAlert), api.FromTrackAlert(e.Alert)
	case e.Kind == journal.KindWindow && e.Window != nil:
		kind, data = string(journal.KindWindow), api.FromWindow(e.Window, st.s.parties())
	case e.Kind == journal.KindPledge && e.Pledge != nil:
		kind, data = string(journal.KindPledge), api.FromPledge(e.Pledge)
	case e.Kind == journal.KindRequirement && e.Requirement != nil:
		kind, data = string(journal.KindRequirement), api.FromRequirement(e.Requirement)
	case e.Kind == journal.KindActivation && e.Activation != nil:
		kind, data = string(journal.KindActivation), api.FromActivation(e.Activation, e.Time)
	case e.Kind == journal.KindSupport && e.Support != nil:
		kind, data = string(journal.KindSupport), api.FromSupport(e.Support)
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

// since sends, as incident events, the current state of every incident
// changed after journal entry after that p may see.
func (st *streamer) since(after uint64) error {
	eng := st.s.cfg.Engine
	// Read before Since: every entry up to the head is in its answer.
	st.snapshot = eng.Head()
	// First what was merged away since, so that the client drops it.
	for _, m := range eng.MergedSince(st.p, after) {
		b, err := json.Marshal(mergedEvent{ID: m.Gone, Into: m.Into})
		if err != nil {
			return err
		}
		st.buf = append(st.buf[:0], "event: incident_merged\ndata: "...)
		st.buf = append(st.buf, b...)
		st.buf = append(st.buf, '\n', '\n')
		if err := st.flush(); err != nil {
			return err
		}
	}
	for _, rec := range eng.Since(st.p, after) {
		b, err := json.Marshal(api.FromIncident(&rec.Incident, rec.Violations))
		if err != nil {
			return fmt.Errorf("httpapi: stream incident %s: %w", rec.Incident.ID, err)
		}
		st.buf = append(st.buf[:0], "event: incident\ndata: "...)
		st.buf = append(st.buf, b...)
		st.buf = append(st.buf, '\n', '\n')
		if err := st.flush(); err != nil {
			return err
		}
	}
	return nil
}

// judgement sends the engine event ev if p may see its incident.
func (st *streamer) judgement(ev *engine.Event) error {
	st.judgedTo = max(st.judgedTo, ev.Seq)
	if ev.Incident == nil || !engine.Visible(st.p, ev.Incident) {
		return nil
	}
	var data any
	switch ev.Kind {
	case engine.EventIncident:
		if ev.Seq <= st.snapshot {
			return nil
		}
		data = api.FromIncident(ev.Incident, ev.Violations)
	case engine.EventViolation:
		if ev.Seq <= st.snapshot || len(ev.Violations) == 0 {
			return nil
		}
		data = api.FromViolation(&ev.Violations[0])
	case engine.EventIncidentMerged:
		data = mergedEvent{ID: ev.Gone, Into: ev.Incident.ID}
	default:
		return nil // a kind this API does not stream
	}
	b, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("httpapi: stream %s of incident %s: %w", ev.Kind, ev.Incident.ID, err)
	}
	st.buf = fmt.Appendf(st.buf[:0], "event: %s\ndata: ", ev.Kind)
	st.buf = append(st.buf, b...)
	st.buf = append(st.buf, '\n', '\n')
	return st.flush()
}

// drain sends the engine events sub holds already.
func (st *streamer) drain(sub *feed.Subscription[engine.Event]) {
	for {
		select {
		case batch, ok := <-sub.C:
			if !ok {
				return
			}
			for i := range batch {
				if st.judgement(&batch[i]) != nil {
					return
				}
			}
		default:
			return
		}
	}
}

// lost tells the client it fell behind and where to resume: after the
// last entry it was sent, or, when it follows the engine's events, after
// the last entry whose events it was sent, if that comes before. The event
// then carries that id too, so that EventSource resumes from it: the
// entries after it come again, and the incidents they changed.
func (st *streamer) lost() {
	resume := st.last
	if st.judging && st.judgedTo < resume {
		resume = st.judgedTo
	}
	st.buf = st.buf[:0]
	if resume != st.last {
		st.buf = fmt.Appendf(st.buf, "id: %d\n", resume)
	}
	b, _ := json.Marshal(lostEvent{LastEventID: strconv.FormatUint(resume, 10)})
	st.buf = append(st.buf, "event: lost\ndata: "...)
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
