package httpapi

import (
	"context"
	"fmt"
	"net/http"

	"github.com/truce-dev/truce/internal/api"
	"github.com/truce-dev/truce/internal/deconflict"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/truce"
)

// maxTracksBody bounds a POST of positions: 20,000 positions of about 150
// bytes.
const maxTracksBody = 4 << 20

// tracksAnswer is the answer to POST /api/v1/tracks.
type tracksAnswer struct {
	Accepted int              `json:"accepted"`
	Seq      uint64           `json:"seq"` // the journal entry that holds the batch
	Alerts   []api.TrackAlert `json:"alerts"`
}

// postTracks journals a batch of positions (all or none), then judges it:
// conformance with each unit's activity under way, closed zones, and
// proximity between aircraft. The alerts are journaled, and so is each
// activity that became nonconforming or conforming again.
func (s *Server) postTracks(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if s.cfg.Monitor == nil {
		writeErrorMessage(w, http.StatusServiceUnavailable, noDeconfliction)
		return
	}
	// Refuse those who may report no positions at all before reading the
	// body (a nation's own org is the one nation it may report for).
	if !p.CanReportTracks(p.Org) {
		forbidden(w, p, "report positions (a coalition admin, planner, monitor or sensor, or a nation's for its own units)")
		return
	}
	var req api.TracksRequest
	if !s.decodeBody(w, r, maxTracksBody, "a batch of positions", &req) {
		return
	}
	if len(req.Positions) == 0 {
		s.writeError(w, r, invalid("positions", "no positions"))
		return
	}
	if n := s.cfg.MaxRecords; len(req.Positions) > n {
		writeErrorMessage(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("%d positions in one request, more than %d", len(req.Positions), n))
		return
	}
	batch, err := req.ToPositions()
	if err == nil {
		err = deconflict.ValidatePositions(batch)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for i := range batch {
		if !p.CanReportTracks(batch[i].Nation) {
			forbidden(w, p, fmt.Sprintf("report positions of nation %q (positions[%d])", batch[i].Nation, i))
			return
		}
	}
	seq, alerts, err := s.ReportTracks(r.Context(), p.Org, batch)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res := tracksAnswer{Accepted: len(batch), Seq: seq, Alerts: make([]api.TrackAlert, len(alerts))}
	for i := range alerts {
		res.Alerts[i] = api.FromTrackAlert(&alerts[i])
	}
	writeJSON(w, http.StatusOK, res)
}

// ReportTracks journals a batch of valid positions recorded by org, then
// judges it: the alerts are journaled, and so is each activity that
// became nonconforming or conforming again. It returns the batch's journal
// entry and the alerts. The TAK/CoT listener reports through it too.
func (s *Server) ReportTracks(ctx context.Context, org truce.OrgID, batch []truce.Position) (uint64, []truce.TrackAlert, error) {
	if s.cfg.Monitor == nil {
		return 0, nil, fmt.Errorf("httpapi: report tracks: %s", noDeconfliction)
	}
	out, err := s.cfg.Store.Append(ctx, []journal.Entry{{Kind: journal.KindTracks, Org: org, Tracks: batch}})
	if err != nil {
		return 0, nil, fmt.Errorf("httpapi: journal %d positions: %w", len(batch), err)
	}
	alerts := s.cfg.Monitor.Observe(batch)
	if len(alerts) == 0 {
		return out[0].Seq, nil, nil
	}
	// The alerts and the activities they change, in one commit.
	entries := make([]journal.Entry, 0, len(alerts)+2)
	for i := range alerts {
		alerts[i] = alerts[i].Canonical()
		entries = append(entries, journal.Entry{Kind: journal.KindTrackAlert, Org: "coalition", Alert: &alerts[i]})
	}
	_, err = s.cfg.Planner.Conform(alerts, func(changed []truce.Activity) error {
		for _, a := range changed {
			c := a.Canonical()
			entries = append(entries, journal.Entry{Kind: journal.KindActivity, Org: "coalition", Activity: &c})
		}
		_, err := s.cfg.Store.Append(ctx, entries)
		return err
	})
	if err == nil && len(entries) == len(alerts) {
		// No activity changed: the alerts alone.
		_, err = s.cfg.Store.Append(ctx, entries)
	}
	if err != nil {
		return 0, nil, fmt.Errorf("httpapi: journal %d track alerts: %w", len(alerts), err)
	}
	return out[0].Seq, alerts, nil
}

// unitsAnswer is the answer to GET /api/v1/tracks.
type unitsAnswer struct {
	Units []api.Position `json:"units"`
}

// listTracks answers the last position of every unit seen.
func (s *Server) listTracks(w http.ResponseWriter, r *http.Request) {
	if !s.readsForce(w, r, "tracks") {
		return
	}
	if q := r.URL.Query(); len(q) > 0 {
		for k := range q {
			s.writeError(w, r, invalid(k, "unknown parameter (the list takes none)"))
			return
		}
	}
	units := s.cfg.Monitor.Units()
	res := unitsAnswer{Units: make([]api.Position, len(units))}
	for i := range units {
		res.Units[i] = api.FromPosition(&units[i])
	}
	writeJSON(w, http.StatusOK, res)
}
