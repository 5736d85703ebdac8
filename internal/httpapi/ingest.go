package httpapi

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/truce-dev/truce/internal/ingest"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/truce"
)

// ingestResult is the answer to a POST of observations.
type ingestResult struct {
	Accepted   int         `json:"accepted"`   // newly journaled
	Duplicates int         `json:"duplicates"` // journaled before (same source and source_id)
	Rejected   []rejection `json:"rejected"`   // invalid records, in input order (the first maxListedRejections)
	// RejectedCount is how many records were rejected, listed or not.
	RejectedCount int `json:"rejected_count"`
	// Error is set when nothing was journaled because every record was
	// rejected (or there was none): the response is then a 422.
	Error string `json:"error,omitempty"`
}

// rejection says why one record of the body was not accepted.
type rejection struct {
	Index int    `json:"index"`          // the record's position in the body, from 0
	Line  int    `json:"line,omitempty"` // its first line, from 1, when the format has lines
	Field string `json:"field,omitempty"`
	Error string `json:"error"`
}

// reject counts a rejected record and lists it if the list has room.
func (res *ingestResult) reject(r rejection) {
	res.RejectedCount++
	if len(res.Rejected) < maxListedRejections {
		res.Rejected = append(res.Rejected, r)
	}
}

// bodyReader remembers the first error reading the request body, whatever
// the decoder makes of it.
type bodyReader struct {
	r   io.Reader
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

// postObservations decodes the whole body, then journals its valid
// observations in one append.
func (s *Server) postObservations(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if !p.CanReport() {
		forbidden(w, p, "report observations")
		return
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		writeErrorMessage(w, http.StatusUnsupportedMediaType, "content type: "+err.Error()+" (want application/json, application/x-ndjson, text/csv or application/geo+json)")
		return
	}
	format, ok := ingest.FormatOfMediaType(mt)
	if !ok {
		writeErrorMessage(w, http.StatusUnsupportedMediaType, fmt.Sprintf("content type %q is not accepted (want application/json, application/x-ndjson, text/csv or application/geo+json)", mt))
		return
	}

	// Bound what ingest holds: a few requests decode at once, each up to
	// MaxRecords records, and each must arrive within bodyTimeout.
	select {
	case s.ingesting <- struct{}{}:
		defer func() { <-s.ingesting }()
	case <-r.Context().Done():
		return
	}
	// A network deadline is wall-clock time, not the domain's clock.
	if err := http.NewResponseController(w).SetReadDeadline(time.Now().Add(bodyTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		s.log.Warn("ingest: set read deadline", "error", err)
	}
	body := &bodyReader{r: http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)}
	dec := ingest.NewDecoder(body, format, ingest.Options{Now: s.cfg.Now(), Parties: s.cfg.Parties})
	var (
		entries []journal.Entry
		res     = ingestResult{Rejected: []rejection{}}
	)
	for i := 0; ; i++ {
		obs, rej, err := dec.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			s.badBody(w, r, body.err, err)
			return
		}
		if i >= s.cfg.MaxRecords {
			writeErrorMessage(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("more than %d records in one request: send smaller batches", s.cfg.MaxRecords))
			return
		}
		if rej != nil {
			res.reject(rejection{Index: rej.Index, Line: rej.Line, Field: rej.Field, Error: rej.Reason})
			continue
		}
		if p.Kind == truce.OrgParty {
			// A party reports its own claims only.
			own := truce.PartyID(p.Org)
			switch obs.Party {
			case "":
				obs.Party = own
			case own:
			default:
				res.reject(rejection{Index: i, Line: dec.Line(), Field: "party", Error: fmt.Sprintf("party %s may only report its own claims, not %s's", own, obs.Party)})
				continue
			}
		}
		entries = append(entries, journal.Entry{Kind: journal.KindObservation, Org: p.Org, Observation: &obs})
	}
	// The body was read to its end: a failure to read it would have shown
	// here at the latest.
	if body.err != nil {
		s.badBody(w, r, body.err, body.err)
		return
	}
	s.metrics.observations.WithLabelValues("rejected").Add(float64(res.RejectedCount))
	if len(entries) == 0 {
		res.Error = "every record was rejected"
		if res.RejectedCount == 0 {
			res.Error = "no records"
		}
		writeJSON(w, http.StatusUnprocessableEntity, res)
		return
	}

	start := s.cfg.Now()
	outcomes, err := s.cfg.Store.Append(r.Context(), entries)
	took := s.cfg.Now().Sub(start)
	if err != nil {
		s.writeError(w, r, fmt.Errorf("httpapi: journal %d observations: %w", len(entries), err))
		return
	}
	s.metrics.commitSeconds.Observe(took.Seconds())
	s.metrics.batchSize.Observe(float64(len(entries)))
	if s.observeCommit != nil {
		s.observeCommit(took, len(entries))
	}
	for _, o := range outcomes {
		if o.Duplicate {
			res.Duplicates++
		} else {
			res.Accepted++
		}
	}
	s.metrics.observations.WithLabelValues("accepted").Add(float64(res.Accepted))
	s.metrics.observations.WithLabelValues("duplicate").Add(float64(res.Duplicates))
	writeJSON(w, http.StatusOK, res)
}

// badBody answers a body that could not be decoded to its end: readErr is
// the error reading it, if any, err what the decoder said.
func (s *Server) badBody(w http.ResponseWriter, r *http.Request, readErr, err error) {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(readErr, &tooBig) || errors.As(err, &tooBig):
		writeErrorMessage(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", s.cfg.MaxBodyBytes))
	case readErr != nil:
		// Most likely the client went away: nothing was journaled, and
		// nobody may be there to read the answer.
		s.log.Info("ingest: reading request body", "error", readErr, "remote", r.RemoteAddr)
		writeErrorMessage(w, http.StatusBadRequest, "reading request body: "+readErr.Error())
	case errors.Is(err, ingest.ErrFormat):
		writeErrorMessage(w, http.StatusBadRequest, err.Error())
	default:
		s.writeError(w, r, fmt.Errorf("httpapi: decode observations: %w", err))
	}
}
