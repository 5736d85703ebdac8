package api

import "github.com/truce-dev/truce/internal/truce"

// WindowRequest is the body of POST /api/v1/windows: a request for a
// local ceasefire for repair work. Pointers distinguish an absent field
// from a zero one.
type WindowRequest struct {
	Name    string   `json:"name"`
	Purpose string   `json:"purpose,omitempty"`
	Center  *LatLon  `json:"center"`
	RadiusM *float64 `json:"radius_m"`
	From    string   `json:"from"`  // RFC 3339
	Until   string   `json:"until"` // RFC 3339
}

// Window is the wire form of a window of silence and where its
// acknowledgement stands.
type Window struct {
	ID      string  `json:"id"`
	Name    string  `json:"name,omitempty"`
	Purpose string  `json:"purpose,omitempty"`
	Center  LatLon  `json:"center"`
	RadiusM float64 `json:"radius_m"`
	From    string  `json:"from"`
	// Until is absent for an open-ended window (agreed outside the API).
	Until string `json:"until,omitempty"`
	// State is "requested" until every party has acknowledged it, then
	// "acknowledged": only then does fire inside it break the window.
	State          string   `json:"state"`
	AcknowledgedBy []string `json:"acknowledged_by"` // sorted
	Pending        []string `json:"pending"`         // the parties yet to acknowledge, in the agreement's order
	RequestedBy    string   `json:"requested_by,omitempty"`
	RequestedAt    string   `json:"requested_at,omitempty"`
}

// FromWindow returns the wire form of w, for an agreement of parties.
func FromWindow(w *truce.SilenceWindow, parties []truce.PartyID) Window {
	out := Window{
		ID:             w.ID,
		Name:           w.Name,
		Purpose:        w.Purpose,
		Center:         LatLon{Lat: f64(deg(w.Center.Lat)), Lon: f64(deg(w.Center.Lon))},
		RadiusM:        truce.Round(w.Radius, truce.MetreUnit),
		From:           timeOf(w.Period.From),
		State:          "requested",
		AcknowledgedBy: []string{},
		Pending:        []string{},
		RequestedBy:    string(w.RequestedBy),
	}
	if !w.Period.Until.IsZero() {
		out.Until = timeOf(w.Period.Until)
	}
	if !w.Requested.IsZero() {
		out.RequestedAt = timeOf(w.Requested)
	}
	if w.Acknowledged {
		out.State = "acknowledged"
	}
	for _, p := range w.Acks {
		out.AcknowledgedBy = append(out.AcknowledgedBy, string(p))
	}
	if !w.Acknowledged {
		for _, p := range w.Pending(parties) {
			out.Pending = append(out.Pending, string(p))
		}
	}
	return out
}
