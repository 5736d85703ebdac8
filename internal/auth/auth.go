// Package auth makes and checks API bearer tokens. A token's secret is
// shown once, when it is made; truce keeps only its SHA-256 hash (a
// truce.Token), so a stolen database yields no usable credential.
//
// A secret reads "truce_" followed by 43 characters of unpadded base64url
// (32 random bytes). The package is pure: randomness is passed in.
package auth

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/truce-dev/truce/internal/truce"
)

// Prefix starts every token secret, so that secret scanners can find
// leaked ones.
const Prefix = "truce_"

// New makes a token for org (of the given kind) and role from 32 bytes of
// rand, returning the secret to hand out and the token to keep.
func New(rand io.Reader, org truce.OrgID, kind truce.OrgKind, role truce.Role, label string, now time.Time) (string, truce.Token, error) {
	switch {
	case !truce.ValidOrgID(string(org)):
		return "", truce.Token{}, &truce.ValidationError{Field: "org", Reason: fmt.Sprintf("%q is not an organisation id (1-64 letters, digits, '-', '_', '.')", org)}
	case !kind.Valid():
		_, err := truce.ParseOrgKind(string(kind))
		return "", truce.Token{}, &truce.ValidationError{Field: "kind", Reason: err.Error()}
	case !role.Valid():
		_, err := truce.ParseRole(string(role))
		return "", truce.Token{}, &truce.ValidationError{Field: "role", Reason: err.Error()}
	case len(label) > 200:
		return "", truce.Token{}, &truce.ValidationError{Field: "label", Reason: "longer than 200 bytes"}
	}
	var b [32]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return "", truce.Token{}, fmt.Errorf("auth: new token: %w", err)
	}
	secret := Prefix + base64.RawURLEncoding.EncodeToString(b[:])
	h := Hash(secret)
	return secret, truce.Token{
		ID:      hex.EncodeToString(h[:6]),
		Hash:    h,
		Org:     org,
		Kind:    kind,
		Role:    role,
		Label:   label,
		Created: now.UTC().Round(truce.TimeUnit),
	}, nil
}

// Hash returns the hash under which the token with this secret is kept.
func Hash(secret string) [32]byte { return sha256.Sum256([]byte(secret)) }

// Bearer extracts the secret from an Authorization header value
// ("Bearer <secret>"); ok is false when there is none.
func Bearer(header string) (secret string, ok bool) {
	scheme, rest, found := strings.Cut(header, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	rest = strings.TrimSpace(rest)
	return rest, rest != ""
}
