package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/truce-dev/truce/internal/auth"
	"github.com/truce-dev/truce/internal/truce"
)

type principalKey struct{}

// principalOf returns the caller that authenticate found.
func principalOf(r *http.Request) truce.Principal {
	p, _ := r.Context().Value(principalKey{}).(truce.Principal)
	return p
}

// authenticate lets through only requests bearing a known token, with its
// principal in their context.
func (s *Server) authenticate(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, ok := auth.Bearer(r.Header.Get("Authorization"))
		if !ok {
			unauthorized(w, "missing bearer token")
			return
		}
		tok, err := s.token(r.Context(), auth.Hash(secret))
		if errors.Is(err, truce.ErrNotFound) {
			unauthorized(w, "unknown bearer token")
			return
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		ctx := context.WithValue(r.Context(), principalKey{}, tok.Principal())
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

func unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="truce"`)
	writeErrorMessage(w, http.StatusUnauthorized, msg)
}

func forbidden(w http.ResponseWriter, p truce.Principal, what string) {
	writeErrorMessage(w, http.StatusForbidden, "role "+string(p.Role)+" of "+string(p.Kind)+" "+string(p.Org)+" may not "+what)
}

// token returns the token hashing to hash: from the cache, or else from the
// store (another process may have created it since), caching what it
// finds. Tokens are never changed once created, so a cached one stays
// right.
func (s *Server) token(ctx context.Context, hash [32]byte) (truce.Token, error) {
	s.tokensMu.RLock()
	tok, ok := s.tokens[hash]
	s.tokensMu.RUnlock()
	if ok {
		return tok, nil
	}
	tok, err := s.cfg.Store.TokenByHash(ctx, hash)
	if err != nil {
		return truce.Token{}, err
	}
	s.tokensMu.Lock()
	s.tokens[hash] = tok
	s.tokensMu.Unlock()
	return tok, nil
}
