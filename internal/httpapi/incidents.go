package httpapi

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/truce-dev/truce/internal/api"
	"github.com/truce-dev/truce/internal/engine"
	"github.com/truce-dev/truce/internal/truce"
)

// noAgreement is the error of the judgement routes when the server runs
// without an engine.
const noAgreement = "no agreement loaded: start truce serve with --agreement"

// partyNone is the value of the party filter that selects the incidents
// and violations attributed to no party.
const partyNone = "none"

// incidentPage is the answer to GET /api/v1/incidents.
type incidentPage struct {
	Incidents  []api.Incident `json:"incidents"`
	NextCursor string         `json:"next_cursor,omitempty"`
}

// violationPage is the answer to GET /api/v1/violations.
type violationPage struct {
	Violations []api.Violation `json:"violations"`
	NextCursor string          `json:"next_cursor,omitempty"`
}

// sectorsAnswer is the answer to GET /api/v1/sectors.
type sectorsAnswer struct {
	Sectors    []api.SectorLevel `json:"sectors"`
	Hysteresis float64           `json:"hysteresis"`
	// RenewedAggression says whether the trigger stands and how many
	// sectors at CRITICAL fire it.
	RenewedAggression renewedAggression `json:"renewed_aggression"`
}

type renewedAggression struct {
	Triggered       bool     `json:"triggered"`
	CriticalSectors int      `json:"critical_sectors"` // needed to fire it
	Critical        []string `json:"critical"`         // at CRITICAL now
}

// judging returns the engine, or answers 503 and returns nil when the
// server has none.
// judging returns the caller and the engine when the caller may do what
// (allowed) and there is an engine; otherwise it answers the request (403
// or 503) and returns a nil engine.
func (s *Server) judging(w http.ResponseWriter, r *http.Request, allowed func(truce.Principal) bool, what string) (truce.Principal, *engine.Engine) {
	p := principalOf(r)
	if !allowed(p) {
		forbidden(w, p, what)
		return p, nil
	}
	if s.cfg.Engine == nil {
		writeErrorMessage(w, http.StatusServiceUnavailable, noAgreement)
	}
	return p, s.cfg.Engine
}

func canRead(p truce.Principal) bool { return p.CanRead() }

func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request) {
	p, eng := s.judging(w, r, canRead, "read incidents")
	if eng == nil {
		return
	}
	q, err := parseIncidentQuery(r.URL.Query(), eng.Agreement())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q.Viewer = p
	page, next := eng.Incidents(q)
	res := incidentPage{Incidents: make([]api.Incident, len(page))}
	for i := range page {
		res.Incidents[i] = api.FromIncident(&page[i].Incident, page[i].Violations)
	}
	if !next.IsZero() {
		res.NextCursor = encodeEngineCursor(incidentCursor, next)
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) getIncident(w http.ResponseWriter, r *http.Request) {
	p, eng := s.judging(w, r, canRead, "read incidents")
	if eng == nil {
		return
	}
	id := r.PathValue("id")
	rec, err := eng.Incident(p, id)
	if err != nil {
		s.writeError(w, r, fmt.Errorf("httpapi: get incident %q: %w", id, err))
		return
	}
	writeJSON(w, http.StatusOK, api.FromIncident(&rec.Incident, rec.Violations))
}

func (s *Server) listViolations(w http.ResponseWriter, r *http.Request) {
	p, eng := s.judging(w, r, canRead, "read violations")
	if eng == nil {
		return
	}
	q, err := parseViolationQuery(r.URL.Query(), eng.Agreement())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q.Viewer = p
	page, next := eng.Violations(q)
	res := violationPage{Violations: make([]api.Violation, len(page))}
	for i := range page {
		res.Violations[i] = api.FromViolation(&page[i])
	}
	if !next.IsZero() {
		res.NextCursor = encodeEngineCursor(violationCursor, next)
	}
	writeJSON(w, http.StatusOK, res)
}

// levelMarking is the marking of sector levels and of the trigger, as of
// their journal entries: every organisation of the mechanism.
var levelMarking = truce.Marking{TLP: truce.TLPGreen}

func (s *Server) listSectors(w http.ResponseWriter, r *http.Request) {
	_, eng := s.judging(w, r, func(p truce.Principal) bool { return p.CanSee(levelMarking, "") }, "read sector levels (TLP:GREEN)")
	if eng == nil {
		return
	}
	for name := range r.URL.Query() {
		s.writeError(w, r, invalid(name, "unknown parameter (this route takes none)"))
		return
	}
	a := eng.Agreement()
	names := map[string]string{}
	for _, sec := range a.Sectors {
		names[sec.ID] = sec.Name
	}
	// As of now: scores fall as violations leave their windows, even
	// when nothing new is reported.
	levels := eng.SectorsAt(s.cfg.Now())
	res := sectorsAnswer{
		Sectors:    make([]api.SectorLevel, len(levels)),
		Hysteresis: a.Escalation.Hysteresis,
		RenewedAggression: renewedAggression{
			Triggered:       eng.Triggered(),
			CriticalSectors: a.Escalation.RenewedAggressionSectors,
			Critical:        []string{},
		},
	}
	for i := range levels {
		res.Sectors[i] = api.FromSectorLevel(&levels[i], names[levels[i].Sector], a.Escalation.Windows)
		if levels[i].Level == truce.LevelCritical {
			res.RenewedAggression.Critical = append(res.RenewedAggression.Critical, levels[i].Sector)
		}
	}
	slices.Sort(res.RenewedAggression.Critical)
	writeJSON(w, http.StatusOK, res)
}

// parseIncidentQuery reads the filters of GET /api/v1/incidents against
// agreement a. An error names the bad parameter.
func parseIncidentQuery(v url.Values, a *truce.Agreement) (engine.IncidentQuery, error) {
	var q engine.IncidentQuery
	err := checkParams(v, []string{"from", "to", "bbox", "limit", "cursor"}, []string{"category", "status", "sector", "party"})
	if err != nil {
		return q, err
	}
	if q.From, q.To, err = parseRange(v); err != nil {
		return q, err
	}
	if s := v.Get("bbox"); s != "" {
		if q.BBox, err = parseBBox(s); err != nil {
			return q, err
		}
	}
	if q.Categories, err = parseList(v, "category", truce.ParseCategory); err != nil {
		return q, err
	}
	if q.Statuses, err = parseList(v, "status", truce.ParseIncidentStatus); err != nil {
		return q, err
	}
	if q.Sectors, err = parseList(v, "sector", sectorParser(a)); err != nil {
		return q, err
	}
	if q.Parties, err = parseList(v, "party", partyParser(a)); err != nil {
		return q, err
	}
	if q.Limit, err = parseLimit(v); err != nil {
		return q, err
	}
	if q.After, err = decodeEngineCursor(incidentCursor, v.Get("cursor")); err != nil {
		return q, err
	}
	return q, nil
}

// parseViolationQuery reads the filters of GET /api/v1/violations.
func parseViolationQuery(v url.Values, a *truce.Agreement) (engine.ViolationQuery, error) {
	var q engine.ViolationQuery
	err := checkParams(v, []string{"from", "to", "limit", "cursor"}, []string{"rule", "sector", "party", "severity"})
	if err != nil {
		return q, err
	}
	if q.From, q.To, err = parseRange(v); err != nil {
		return q, err
	}
	if q.Rules, err = parseList(v, "rule", parseRule); err != nil {
		return q, err
	}
	if q.Sectors, err = parseList(v, "sector", sectorParser(a)); err != nil {
		return q, err
	}
	if q.Parties, err = parseList(v, "party", partyParser(a)); err != nil {
		return q, err
	}
	if q.Severities, err = parseList(v, "severity", parseSeverity); err != nil {
		return q, err
	}
	if q.Limit, err = parseLimit(v); err != nil {
		return q, err
	}
	if q.After, err = decodeEngineCursor(violationCursor, v.Get("cursor")); err != nil {
		return q, err
	}
	return q, nil
}

// checkParams refuses unknown parameters and single ones given twice.
func checkParams(v url.Values, single, multi []string) error {
	for name, vals := range v {
		switch {
		case slices.Contains(single, name):
			if len(vals) > 1 {
				return invalid(name, "given more than once")
			}
		case slices.Contains(multi, name):
		default:
			all := slices.Concat(single, multi)
			slices.Sort(all)
			return invalid(name, "unknown parameter (want "+strings.Join(all[:len(all)-1], ", ")+" or "+all[len(all)-1]+")")
		}
	}
	return nil
}

// parseRange reads from and to (RFC 3339).
func parseRange(v url.Values) (from, to time.Time, err error) {
	if s := v.Get("from"); s != "" {
		if from, err = time.Parse(time.RFC3339, s); err != nil {
			return from, to, invalid("from", fmt.Sprintf("%q is not an RFC 3339 time", s))
		}
	}
	if s := v.Get("to"); s != "" {
		if to, err = time.Parse(time.RFC3339, s); err != nil {
			return from, to, invalid("to", fmt.Sprintf("%q is not an RFC 3339 time", s))
		}
		if !from.IsZero() && !from.Before(to) {
			return from, to, invalid("to", "not after from")
		}
	}
	return from, to, nil
}

// parseList reads parameter name, repeated or comma-separated, each value
// through parse.
func parseList[T any](v url.Values, name string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for _, s := range v[name] {
		for _, item := range strings.Split(s, ",") {
			x, err := parse(strings.TrimSpace(item))
			if err != nil {
				return nil, invalid(name, err.Error())
			}
			out = append(out, x)
		}
	}
	return out, nil
}

func parseLimit(v url.Values) (int, error) {
	s := v.Get("limit")
	if s == "" {
		return 100, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxLimit {
		return 0, invalid("limit", fmt.Sprintf("%q is not a whole number from 1 to %d", s, maxLimit))
	}
	return n, nil
}

func sectorParser(a *truce.Agreement) func(string) (string, error) {
	return func(s string) (string, error) {
		if !slices.ContainsFunc(a.Sectors, func(sec truce.Sector) bool { return sec.ID == s }) {
			return "", fmt.Errorf("%q is not a sector of the agreement", s)
		}
		return s, nil
	}
}

func partyParser(a *truce.Agreement) func(string) (truce.PartyID, error) {
	return func(s string) (truce.PartyID, error) {
		if s == partyNone {
			return "", nil
		}
		if !slices.ContainsFunc(a.Parties, func(p truce.Party) bool { return string(p.ID) == s }) {
			return "", fmt.Errorf("%q is not a party of the agreement (or %s, for undetermined)", s, partyNone)
		}
		return truce.PartyID(s), nil
	}
}

func parseRule(s string) (truce.Rule, error) {
	if r := truce.Rule(s); r.Valid() {
		return r, nil
	}
	return "", fmt.Errorf("unknown rule %q", s)
}

func parseSeverity(s string) (truce.Severity, error) {
	if sev := truce.Severity(s); slices.Contains(truce.Severities(), sev) {
		return sev, nil
	}
	return "", fmt.Errorf("unknown severity %q", s)
}

// Cursors of the engine's lists: the start time and id of the last
// incident of the page, behind a prefix naming the list, in base64url.
const (
	incidentCursor  = "i1."
	violationCursor = "v1."
)

func encodeEngineCursor(prefix string, c engine.Cursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(prefix + c.Start.UTC().Format(time.RFC3339Nano) + " " + c.ID))
}

// decodeEngineCursor reads a cursor of the list prefix names; "" is the
// start of the list.
func decodeEngineCursor(prefix, s string) (engine.Cursor, error) {
	if s == "" {
		return engine.Cursor{}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		if rest, ok := strings.CutPrefix(string(b), prefix); ok {
			if ts, id, ok := strings.Cut(rest, " "); ok && id != "" {
				if start, err := time.Parse(time.RFC3339Nano, ts); err == nil {
					return engine.Cursor{Start: start, ID: id}, nil
				}
			}
		}
	}
	return engine.Cursor{}, invalid("cursor", "not a cursor this server returned")
}
