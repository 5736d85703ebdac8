package httpapi

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/truce-dev/truce/internal/api"
	"github.com/truce-dev/truce/internal/store"
	"github.com/truce-dev/truce/internal/truce"
)

// maxLimit is the largest page GET /api/v1/observations returns.
const maxLimit = 1000

// observationPage is the answer to GET /api/v1/observations.
type observationPage struct {
	Observations []api.ObservationRecord `json:"observations"`
	// NextCursor, when set, is the cursor parameter of the next page.
	NextCursor string `json:"next_cursor,omitempty"`
}

func record(r *store.ObservationRecord) api.ObservationRecord {
	return api.ObservationRecord{
		ID:          r.ID,
		Recorded:    r.Recorded.UTC().Format(time.RFC3339Nano),
		Org:         string(r.Org),
		Observation: api.FromObservation(&r.Observation),
	}
}

func (s *Server) listObservations(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if !p.CanRead() {
		forbidden(w, p, "read observations")
		return
	}
	q, err := parseObservationQuery(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q.Viewer = p
	page, next, err := s.cfg.Store.Observations(r.Context(), q)
	if err != nil {
		s.writeError(w, r, fmt.Errorf("httpapi: list observations: %w", err))
		return
	}
	res := observationPage{Observations: make([]api.ObservationRecord, len(page))}
	for i := range page {
		res.Observations[i] = record(&page[i])
	}
	if next != 0 {
		res.NextCursor = encodeCursor(next)
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) getObservation(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if !p.CanRead() {
		forbidden(w, p, "read observations")
		return
	}
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil || id == 0 {
		s.writeError(w, r, invalid("id", fmt.Sprintf("%q is not an observation id (a positive integer)", r.PathValue("id"))))
		return
	}
	rec, err := s.cfg.Store.Observation(r.Context(), p, id)
	if err != nil {
		s.writeError(w, r, fmt.Errorf("httpapi: get observation %d: %w", id, err))
		return
	}
	writeJSON(w, http.StatusOK, record(&rec))
}

// parseObservationQuery reads the filters of GET /api/v1/observations. An
// error names the bad parameter.
func parseObservationQuery(v url.Values) (store.ObservationQuery, error) {
	var q store.ObservationQuery
	for name, vals := range v {
		switch name {
		case "from", "to", "bbox", "limit", "cursor":
			if len(vals) > 1 {
				return q, invalid(name, "given more than once")
			}
		case "category", "source":
		default:
			return q, invalid(name, "unknown parameter (want from, to, bbox, category, source, limit or cursor)")
		}
	}
	var err error
	if s := v.Get("from"); s != "" {
		if q.From, err = time.Parse(time.RFC3339, s); err != nil {
			return q, invalid("from", fmt.Sprintf("%q is not an RFC 3339 time", s))
		}
	}
	if s := v.Get("to"); s != "" {
		if q.To, err = time.Parse(time.RFC3339, s); err != nil {
			return q, invalid("to", fmt.Sprintf("%q is not an RFC 3339 time", s))
		}
		if !q.From.IsZero() && !q.From.Before(q.To) {
			return q, invalid("to", "not after from")
		}
	}
	if s := v.Get("bbox"); s != "" {
		if q.BBox, err = parseBBox(s); err != nil {
			return q, err
		}
	}
	for _, s := range v["category"] {
		for _, c := range strings.Split(s, ",") {
			cat, err := truce.ParseCategory(strings.TrimSpace(c))
			if err != nil {
				return q, invalid("category", err.Error())
			}
			q.Categories = append(q.Categories, cat)
		}
	}
	for _, s := range v["source"] {
		if s == "" {
			return q, invalid("source", "empty")
		}
		q.Sources = append(q.Sources, s)
	}
	q.Limit = 100
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			return q, invalid("limit", fmt.Sprintf("%q is not a whole number from 1 to %d", s, maxLimit))
		}
		q.Limit = n
	}
	if s := v.Get("cursor"); s != "" {
		if q.After, err = decodeCursor(s); err != nil {
			return q, err
		}
	}
	return q, nil
}

// parseBBox reads "minLon,minLat,maxLon,maxLat" (GeoJSON order). minLon
// greater than maxLon crosses the antimeridian.
func parseBBox(s string) (*store.BBox, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return nil, invalid("bbox", fmt.Sprintf("%q is not minLon,minLat,maxLon,maxLat", s))
	}
	var f [4]float64
	for i, p := range parts {
		x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || x != x {
			return nil, invalid("bbox", fmt.Sprintf("%q is not a number", p))
		}
		f[i] = x
	}
	b := &store.BBox{MinLon: f[0], MinLat: f[1], MaxLon: f[2], MaxLat: f[3]}
	switch {
	case b.MinLon < -180 || b.MinLon > 180 || b.MaxLon < -180 || b.MaxLon > 180:
		return nil, invalid("bbox", "longitude outside -180 to 180")
	case b.MinLat < -90 || b.MinLat > 90 || b.MaxLat < -90 || b.MaxLat > 90:
		return nil, invalid("bbox", "latitude outside -90 to 90")
	case b.MinLat > b.MaxLat:
		return nil, invalid("bbox", "minimum latitude above maximum latitude")
	}
	return b, nil
}

// A cursor is the store's cursor (the last id of the page) behind a
// version prefix, in base64url, so that clients treat it as opaque.
const cursorPrefix = "o1."

func encodeCursor(after uint64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatUint(after, 10)))
}

func decodeCursor(s string) (uint64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		if rest, ok := strings.CutPrefix(string(b), cursorPrefix); ok {
			if n, err := strconv.ParseUint(rest, 10, 64); err == nil {
				return n, nil
			}
		}
	}
	return 0, invalid("cursor", "not a cursor this server returned")
}
