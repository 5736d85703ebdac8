package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"

	"github.com/goccy/go-json"
	"github.com/truce-dev/truce/internal/truce"
)

// statusOf is the one mapping of errors to HTTP status codes.
func statusOf(err error) int {
	switch {
	case errors.Is(err, truce.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, truce.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, truce.ErrConflict):
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

// errorBody is the body of every error response.
type errorBody struct {
	Error   string `json:"error"`
	ErrorID string `json:"error_id,omitempty"` // internal errors only: look it up in the log
}

// writeError answers err with its status. The message of a client error is
// sent; an internal error is logged with a fresh id and only the id is
// sent.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := statusOf(err)
	switch code {
	case http.StatusInternalServerError:
		if r.Context().Err() != nil {
			// The client went away and the store gave up with it: not
			// a failure of the server, and nobody reads the answer.
			s.log.Info("request ended by the client", "method", r.Method, "path", r.URL.Path, "error", err)
			writeErrorMessage(w, http.StatusServiceUnavailable, "request cancelled")
			return
		}
		id := errorID()
		s.log.Error("internal error", "error_id", id, "method", r.Method, "path", r.URL.Path, "error", err)
		writeJSON(w, code, errorBody{Error: "internal error", ErrorID: id})
	case http.StatusNotFound:
		writeErrorMessage(w, code, "not found")
	default:
		writeErrorMessage(w, code, err.Error())
	}
}

// writeErrorMessage answers with code and {"error": msg}.
func writeErrorMessage(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{Error: msg})
}

// writeJSON answers with code and v as JSON.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own wire types are written: this is a bug.
		code = http.StatusInternalServerError
		b = []byte(`{"error":"internal error: encoding the response"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

// errorID returns a random id to find an internal error in the log.
func errorID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// invalid returns the error of a bad request parameter or field.
func invalid(field, reason string) error {
	return &truce.ValidationError{Field: field, Reason: reason}
}
