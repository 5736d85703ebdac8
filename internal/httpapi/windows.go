package httpapi

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/truce-dev/truce/internal/api"
	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/truce"
)

// Limits of a window of silence requested through the API.
const (
	maxWindowRadius  = 20000          // metres
	maxWindowPeriod  = 72 * time.Hour //
	maxWindowName    = 200            // bytes
	maxWindowPurpose = 2000           // bytes
	maxWindowBody    = 64 << 10       // bytes of a request body
)

// windowBook is the server's view of the windows of silence: the
// engine's, brought up to the journal's head from the store. The engine
// catches up with commits on its own time; the book reads what it has not
// yet applied, so that a window is seen right after its entry is
// committed. Its mutex also makes each change of a window (read the
// window, journal its new state) one step, so that two parties
// acknowledging at once do not lose one acknowledgement.
type windowBook struct {
	mu   sync.Mutex
	seq  uint64 // the last journal entry read
	byID map[string]truce.SilenceWindow
}

// syncWindows brings the book up to the journal's head. The caller holds
// s.windows.mu.
func (s *Server) syncWindows(ctx context.Context) error {
	b := &s.windows
	if b.byID == nil {
		b.byID = map[string]truce.SilenceWindow{}
	}
	if eng := s.cfg.Engine; eng != nil {
		// Head before Windows: the windows are then as of that head or
		// later, and what follows the head is read again below, the
		// later entry of an id replacing the earlier.
		if h := eng.Head(); h > b.seq {
			clear(b.byID)
			for _, w := range eng.Windows() {
				b.byID[w.ID] = w
			}
			b.seq = h
		}
	}
	err := s.cfg.Store.Entries(ctx, b.seq, 0, func(e *journal.Entry, _ []byte) error {
		if e.Kind == journal.KindWindow && e.Window != nil {
			w := *e.Window
			w.Acks = slices.Clone(w.Acks) // the entry is valid only during the call
			b.byID[w.ID] = w
		}
		b.seq = e.Seq
		return nil
	})
	if err != nil {
		return fmt.Errorf("httpapi: read windows of silence: %w", err)
	}
	return nil
}

// parties returns the agreement's parties: the engine's agreement, else
// Config.Parties; nil without an agreement.
func (s *Server) parties() []truce.PartyID {
	if s.cfg.Engine != nil {
		a := s.cfg.Engine.Agreement()
		ps := make([]truce.PartyID, len(a.Parties))
		for i, p := range a.Parties {
			ps[i] = p.ID
		}
		return ps
	}
	return s.cfg.Parties
}

// windowsAnswer is the answer to GET /api/v1/windows.
type windowsAnswer struct {
	Windows []api.Window `json:"windows"`
}

// windowMarking is the marking of every window of silence, as of its
// journal entries: for the coalition and the parties.
var windowMarking = truce.Marking{TLP: truce.TLPGreen}

func canReadWindows(p truce.Principal) bool { return p.CanSee(windowMarking, "") }

// postWindow journals a request for a window of silence. The same request
// again answers the window as it stands, 200, and journals nothing.
func (s *Server) postWindow(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if !p.CanRequestWindow() {
		forbidden(w, p, "request windows of silence (coalition admin, analyst, commissioner or planner only)")
		return
	}
	parties := s.parties()
	if len(parties) == 0 {
		writeErrorMessage(w, http.StatusServiceUnavailable, noAgreement)
		return
	}
	var req api.WindowRequest
	if !s.decodeBody(w, r, maxWindowBody, "a window request", &req) {
		return
	}
	now := s.cfg.Now()
	win, err := windowOf(&req, now)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	win.RequestedBy, win.Requested = p.Org, now.UTC().Truncate(truce.TimeUnit)
	win.ID = windowID(&win)

	b := &s.windows
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := s.syncWindows(r.Context()); err != nil {
		s.writeError(w, r, err)
		return
	}
	if old, ok := b.byID[win.ID]; ok {
		writeJSON(w, http.StatusOK, api.FromWindow(&old, parties))
		return
	}
	if _, err := s.cfg.Store.Append(r.Context(), []journal.Entry{{Kind: journal.KindWindow, Org: p.Org, Window: &win}}); err != nil {
		s.writeError(w, r, fmt.Errorf("httpapi: journal window of silence %s: %w", win.ID, err))
		return
	}
	if err := s.syncWindows(r.Context()); err != nil {
		s.writeError(w, r, err)
		return
	}
	got := b.byID[win.ID]
	w.Header().Set("Location", "/api/v1/windows/"+win.ID)
	writeJSON(w, http.StatusCreated, api.FromWindow(&got, parties))
}

// acknowledgeWindow journals a party's acknowledgement of a window; the
// last party's makes it acknowledged. Acknowledging again changes nothing.
func (s *Server) acknowledgeWindow(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	party, ok := p.AcknowledgesFor()
	if !ok {
		forbidden(w, p, "acknowledge windows of silence (a party's liaison only, for that party)")
		return
	}
	parties := s.parties()
	if len(parties) == 0 {
		writeErrorMessage(w, http.StatusServiceUnavailable, noAgreement)
		return
	}
	if !slices.Contains(parties, party) {
		writeErrorMessage(w, http.StatusForbidden, fmt.Sprintf("%s is not a party to the agreement", party))
		return
	}
	id := r.PathValue("id")
	b := &s.windows
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := s.syncWindows(r.Context()); err != nil {
		s.writeError(w, r, err)
		return
	}
	win, ok := b.byID[id]
	switch {
	case !ok:
		s.writeError(w, r, fmt.Errorf("httpapi: acknowledge window %q: %w", id, truce.ErrNotFound))
		return
	case slices.Contains(win.Acks, party):
		writeJSON(w, http.StatusOK, api.FromWindow(&win, parties))
		return
	case win.Ended(s.cfg.Now()):
		writeErrorMessage(w, http.StatusConflict, fmt.Sprintf("window %s ended at %s: too late to acknowledge", id, win.Period.Until.UTC().Format(time.RFC3339)))
		return
	}
	win.Acknowledge(party, parties)
	if _, err := s.cfg.Store.Append(r.Context(), []journal.Entry{{Kind: journal.KindWindow, Org: p.Org, Window: &win}}); err != nil {
		s.writeError(w, r, fmt.Errorf("httpapi: journal acknowledgement of window %s by %s: %w", id, party, err))
		return
	}
	if err := s.syncWindows(r.Context()); err != nil {
		s.writeError(w, r, err)
		return
	}
	got := b.byID[id]
	writeJSON(w, http.StatusOK, api.FromWindow(&got, parties))
}

func (s *Server) listWindows(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if !canReadWindows(p) {
		forbidden(w, p, "read windows of silence")
		return
	}
	if q := r.URL.Query(); len(q) > 0 {
		s.writeError(w, r, invalid(slices.Sorted(maps.Keys(q))[0], "unknown parameter (the list takes none)"))
		return
	}
	b := &s.windows
	b.mu.Lock()
	if err := s.syncWindows(r.Context()); err != nil {
		b.mu.Unlock()
		s.writeError(w, r, err)
		return
	}
	ws := make([]truce.SilenceWindow, 0, len(b.byID))
	for _, win := range b.byID {
		ws = append(ws, win)
	}
	b.mu.Unlock()
	slices.SortFunc(ws, func(x, y truce.SilenceWindow) int {
		return cmp.Or(x.Period.From.Compare(y.Period.From), strings.Compare(x.ID, y.ID))
	})
	parties := s.parties()
	res := windowsAnswer{Windows: make([]api.Window, len(ws))}
	for i := range ws {
		res.Windows[i] = api.FromWindow(&ws[i], parties)
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) getWindow(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if !canReadWindows(p) {
		forbidden(w, p, "read windows of silence")
		return
	}
	id := r.PathValue("id")
	b := &s.windows
	b.mu.Lock()
	err := s.syncWindows(r.Context())
	win, ok := b.byID[id]
	b.mu.Unlock()
	switch {
	case err != nil:
		s.writeError(w, r, err)
	case !ok:
		s.writeError(w, r, fmt.Errorf("httpapi: get window %q: %w", id, truce.ErrNotFound))
	default:
		writeJSON(w, http.StatusOK, api.FromWindow(&win, s.parties()))
	}
}

// windowOf validates a request at now and returns its window, in the
// journal's units. An error names the field at fault.
func windowOf(req *api.WindowRequest, now time.Time) (truce.SilenceWindow, error) {
	var win truce.SilenceWindow
	win.Name = strings.TrimSpace(req.Name)
	switch {
	case win.Name == "":
		return win, invalid("name", "required")
	case len(win.Name) > maxWindowName:
		return win, invalid("name", fmt.Sprintf("longer than %d bytes", maxWindowName))
	case !utf8.ValidString(win.Name):
		return win, invalid("name", "not valid UTF-8")
	}
	win.Purpose = strings.TrimSpace(req.Purpose)
	switch {
	case len(win.Purpose) > maxWindowPurpose:
		return win, invalid("purpose", fmt.Sprintf("longer than %d bytes", maxWindowPurpose))
	case !utf8.ValidString(win.Purpose):
		return win, invalid("purpose", "not valid UTF-8")
	}

	c := req.Center
	switch {
	case c == nil:
		return win, invalid("center", "required")
	case c.Lat == nil:
		return win, invalid("center.lat", "required")
	case c.Lon == nil:
		return win, invalid("center.lon", "required")
	case math.IsNaN(*c.Lat) || *c.Lat < -90 || *c.Lat > 90:
		return win, invalid("center.lat", fmt.Sprintf("%v is outside -90 to 90", *c.Lat))
	case math.IsNaN(*c.Lon) || *c.Lon < -180 || *c.Lon > 180:
		return win, invalid("center.lon", fmt.Sprintf("%v is outside -180 to 180", *c.Lon))
	}
	win.Center = geo.Point{Lat: truce.Round(*c.Lat, truce.DegreeUnit), Lon: truce.Round(*c.Lon, truce.DegreeUnit)}

	switch {
	case req.RadiusM == nil:
		return win, invalid("radius_m", "required")
	case math.IsNaN(*req.RadiusM) || *req.RadiusM <= 0:
		return win, invalid("radius_m", "must be more than 0 metres")
	case *req.RadiusM > maxWindowRadius:
		return win, invalid("radius_m", fmt.Sprintf("%v is more than the largest window, %d metres", *req.RadiusM, maxWindowRadius))
	}
	win.Radius = truce.Round(*req.RadiusM, truce.MetreUnit)
	if win.Radius <= 0 {
		return win, invalid("radius_m", "must be at least 1 millimetre")
	}

	from, err := windowTime("from", req.From)
	if err != nil {
		return win, err
	}
	until, err := windowTime("until", req.Until)
	if err != nil {
		return win, err
	}
	switch {
	case !until.After(from):
		return win, invalid("until", "must be after from")
	case until.Sub(from) > maxWindowPeriod:
		return win, invalid("until", fmt.Sprintf("the window lasts %s, more than the longest, %s", until.Sub(from), maxWindowPeriod))
	case !until.After(now):
		return win, invalid("until", "already passed: a window must end in the future")
	}
	win.Period = truce.TimeRange{From: from, Until: until}
	return win, nil
}

// windowTime parses field's RFC 3339 time, to the journal's unit.
func windowTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, invalid(field, "required")
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, invalid(field, fmt.Sprintf("%q is not an RFC 3339 time", s))
	}
	return t.UTC().Truncate(truce.TimeUnit), nil
}

// windowID derives a window's id from what was requested: who asked, the
// name and purpose, the place and the period. The same request made again
// names the same window.
func windowID(w *truce.SilenceWindow) string {
	h := sha256.New()
	var n [8]byte
	for _, s := range []string{string(w.RequestedBy), w.Name, w.Purpose} {
		binary.BigEndian.PutUint32(n[:4], uint32(len(s)))
		h.Write(n[:4])
		h.Write([]byte(s))
	}
	for _, x := range []int64{
		truce.Units(w.Center.Lat, truce.DegreeUnit), truce.Units(w.Center.Lon, truce.DegreeUnit),
		truce.Units(w.Radius, truce.MetreUnit), w.Period.From.UnixMicro(), w.Period.Until.UnixMicro(),
	} {
		binary.BigEndian.PutUint64(n[:], uint64(x))
		h.Write(n[:])
	}
	return "w-" + hex.EncodeToString(h.Sum(nil)[:6])
}
