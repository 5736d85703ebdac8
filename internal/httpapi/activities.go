package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-json"
	"github.com/truce-dev/truce/internal/api"
	"github.com/truce-dev/truce/internal/deconflict"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/truce"
)

const (
	maxActivityBody = 1 << 20 // bytes of an activity request
	noDeconfliction = "deconfliction needs an agreement: start the server with --agreement"
)

var activityIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// decodeBody decodes the one JSON value of r's body into v, at most limit
// bytes; on failure it answers and returns false.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, limit int64, what string, v any) bool {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeErrorMessage(w, http.StatusUnsupportedMediaType, fmt.Sprintf("content type %q is not accepted (want application/json)", r.Header.Get("Content-Type")))
		return false
	}
	limit = min(s.cfg.MaxBodyBytes, limit)
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("more than one JSON value")
		}
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeErrorMessage(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", limit))
		} else {
			s.writeError(w, r, invalid("body", "not "+what+": "+err.Error()))
		}
		return false
	}
	return true
}

// commitActivity journals a decision about an activity, recorded by org.
func (s *Server) commitActivity(ctx context.Context, org truce.OrgID) func(truce.Activity) error {
	return func(a truce.Activity) error {
		c := a.Canonical()
		if _, err := s.cfg.Store.Append(ctx, []journal.Entry{{Kind: journal.KindActivity, Org: org, Activity: &c}}); err != nil {
			return fmt.Errorf("httpapi: journal activity %s version %d: %w", a.ID, a.Version, err)
		}
		return nil
	}
}

// activityConflict is the answer to a plan refused for its conflicts.
type activityConflict struct {
	Error    string       `json:"error"`
	Activity api.Activity `json:"activity"`
}

// planOf decodes an activity request and checks who may file it.
func (s *Server) planOf(w http.ResponseWriter, r *http.Request) (truce.Activity, *int, bool) {
	p := principalOf(r)
	if s.cfg.Planner == nil {
		writeErrorMessage(w, http.StatusServiceUnavailable, noDeconfliction)
		return truce.Activity{}, nil, false
	}
	// Refuse those who may plan for no nation before reading the body.
	if !p.CanPlanFor(p.Org) {
		forbidden(w, p, "file or change activities (a coalition planner or admin, or a nation's own planner)")
		return truce.Activity{}, nil, false
	}
	var req api.ActivityRequest
	if !s.decodeBody(w, r, maxActivityBody, "an activity", &req) {
		return truce.Activity{}, nil, false
	}
	if req.Nation == "" && p.Kind == truce.OrgNation {
		req.Nation = string(p.Org)
	}
	if !p.CanPlanFor(truce.NationID(req.Nation)) {
		forbidden(w, p, "file or change activities of nation "+strconv.Quote(req.Nation)+" (a coalition planner or admin, or the nation's own planner)")
		return truce.Activity{}, nil, false
	}
	a, err := req.ToActivity()
	if err != nil {
		s.writeError(w, r, err)
		return truce.Activity{}, nil, false
	}
	return a, req.Version, true
}

// answerDecision writes a decided plan: code when accepted, 409 with
// every conflict when refused.
func (s *Server) answerDecision(w http.ResponseWriter, a truce.Activity, code int) {
	if a.State == truce.ActivityRejected {
		n := 0
		for _, c := range a.Conflicts {
			if c.Blocking {
				n++
			}
		}
		writeJSON(w, http.StatusConflict, activityConflict{
			Error:    fmt.Sprintf("activity %s is refused: %d blocking conflicts (the plan is recorded as rejected at version %d; revise it with PUT)", a.ID, n, a.Version),
			Activity: api.FromActivity(&a),
		})
		return
	}
	w.Header().Set("ETag", strconv.Quote(strconv.Itoa(a.Version)))
	writeJSON(w, code, api.FromActivity(&a))
}

// postActivity decides a new plan: 201 when accepted (lower-priority
// activities it overlaps are listed as non-blocking conflicts), 409 with
// its conflicts when refused.
func (s *Server) postActivity(w http.ResponseWriter, r *http.Request) {
	a, _, ok := s.planOf(w, r)
	if !ok {
		return
	}
	if a.ID == "" {
		h := sha256.New()
		fmt.Fprintf(h, "%s\x00%s\x00%d\x00", a.Nation, a.Unit, s.cfg.Now().UnixNano())
		for _, v := range a.Volumes {
			fmt.Fprintf(h, "%v\x00", v)
		}
		a.ID = strings.ToLower(string(a.Nation)) + "-" + hex.EncodeToString(h.Sum(nil)[:6])
	} else if !activityIDPattern.MatchString(a.ID) {
		s.writeError(w, r, invalid("id", fmt.Sprintf("%q must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", a.ID)))
		return
	}
	got, err := s.cfg.Planner.Propose(a, s.commitActivity(r.Context(), principalOf(r).Org))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/activities/"+got.ID)
	s.answerDecision(w, got, http.StatusCreated)
}

// checkActivity answers what a plan would conflict with, deciding nothing.
func (s *Server) checkActivity(w http.ResponseWriter, r *http.Request) {
	a, _, ok := s.planOf(w, r)
	if !ok {
		return
	}
	cs, err := s.cfg.Planner.Check(&a)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	a.Conflicts = cs
	a.State = truce.ActivityAccepted
	if deconflict.Blocking(cs) {
		a.State = truce.ActivityRejected
	}
	writeJSON(w, http.StatusOK, api.FromActivity(&a))
}

// versionOf returns the version a change was made against: the body's
// version, else If-Match.
func versionOf(r *http.Request, body *int) (int, error) {
	if body != nil {
		return *body, nil
	}
	if m := strings.Trim(strings.TrimPrefix(r.Header.Get("If-Match"), "W/"), `"`); m != "" {
		v, err := strconv.Atoi(m)
		if err != nil {
			return 0, invalid("If-Match", fmt.Sprintf("%q is not a version number", r.Header.Get("If-Match")))
		}
		return v, nil
	}
	return 0, invalid("version", "required: the version the change was made against (or an If-Match header)")
}

// putActivity revises a plan made against a version.
func (s *Server) putActivity(w http.ResponseWriter, r *http.Request) {
	a, body, ok := s.planOf(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	if a.ID != "" && a.ID != id {
		s.writeError(w, r, invalid("id", fmt.Sprintf("%q is not the activity of the path, %q", a.ID, id)))
		return
	}
	a.ID = id
	version, err := versionOf(r, body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	cur, ok := s.cfg.Planner.Activity(id)
	if ok && !principalOf(r).CanPlanFor(cur.Nation) {
		forbidden(w, principalOf(r), "change activities of nation "+string(cur.Nation))
		return
	}
	got, err := s.cfg.Planner.Revise(a, version, s.commitActivity(r.Context(), principalOf(r).Org))
	var refused *deconflict.RefusedError
	if errors.As(err, &refused) {
		writeJSON(w, http.StatusConflict, activityConflict{Error: err.Error(), Activity: api.FromActivity(&refused.Plan)})
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.answerDecision(w, got, http.StatusOK)
}

// transition handles POST /api/v1/activities/{id}/{action}.
func transition(to truce.ActivityState) func(*Server, http.ResponseWriter, *http.Request) {
	return func(s *Server, w http.ResponseWriter, r *http.Request) {
		p := principalOf(r)
		if s.cfg.Planner == nil {
			writeErrorMessage(w, http.StatusServiceUnavailable, noDeconfliction)
			return
		}
		id := r.PathValue("id")
		cur, ok := s.cfg.Planner.Activity(id)
		if !ok || !p.CanSeeForce() {
			if !p.CanSeeForce() {
				forbidden(w, p, "change activities")
				return
			}
			s.writeError(w, r, fmt.Errorf("httpapi: activity %q: %w", id, truce.ErrNotFound))
			return
		}
		if !p.CanPlanFor(cur.Nation) {
			forbidden(w, p, "change activities of nation "+string(cur.Nation))
			return
		}
		var body struct {
			Version *int `json:"version"`
		}
		if r.ContentLength != 0 && !s.decodeBody(w, r, 4096, "a version", &body) {
			return
		}
		version, err := versionOf(r, body.Version)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		got, err := s.cfg.Planner.Transition(id, version, to, s.commitActivity(r.Context(), p.Org))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		w.Header().Set("ETag", strconv.Quote(strconv.Itoa(got.Version)))
		writeJSON(w, http.StatusOK, api.FromActivity(&got))
	}
}

// readsForce answers 403 to a caller who may not see the coalition's
// activities and tracks, and 503 without deconfliction; it reports whether
// the request may go on.
func (s *Server) readsForce(w http.ResponseWriter, r *http.Request, what string) bool {
	p := principalOf(r)
	switch {
	case !p.CanSeeForce():
		forbidden(w, p, "read the coalition's "+what)
		return false
	case s.cfg.Planner == nil || s.cfg.Monitor == nil:
		writeErrorMessage(w, http.StatusServiceUnavailable, noDeconfliction)
		return false
	}
	return true
}

// activitiesAnswer is the answer to GET /api/v1/activities.
type activitiesAnswer struct {
	Activities []api.Activity `json:"activities"`
}

func (s *Server) listActivities(w http.ResponseWriter, r *http.Request) {
	if !s.readsForce(w, r, "activities") {
		return
	}
	var f deconflict.Filter
	for k, vs := range r.URL.Query() {
		v := vs[len(vs)-1]
		switch k {
		case "nation":
			f.Nation = truce.NationID(v)
		case "unit":
			f.Unit = v
		case "state":
			for _, name := range strings.Split(v, ",") {
				st, err := truce.ParseActivityState(name)
				if err != nil {
					s.writeError(w, r, invalid("state", err.Error()))
					return
				}
				f.States = append(f.States, st)
			}
		case "at":
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				s.writeError(w, r, invalid("at", fmt.Sprintf("%q is not an RFC 3339 time", v)))
				return
			}
			f.At = t
		default:
			s.writeError(w, r, invalid(k, "unknown parameter (want nation, unit, state or at)"))
			return
		}
	}
	acts := s.cfg.Planner.Activities(f)
	res := activitiesAnswer{Activities: make([]api.Activity, len(acts))}
	for i := range acts {
		res.Activities[i] = api.FromActivity(&acts[i])
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) getActivity(w http.ResponseWriter, r *http.Request) {
	if !s.readsForce(w, r, "activities") {
		return
	}
	a, ok := s.cfg.Planner.Activity(r.PathValue("id"))
	if !ok {
		s.writeError(w, r, fmt.Errorf("httpapi: activity %q: %w", r.PathValue("id"), truce.ErrNotFound))
		return
	}
	w.Header().Set("ETag", strconv.Quote(strconv.Itoa(a.Version)))
	writeJSON(w, http.StatusOK, api.FromActivity(&a))
}
