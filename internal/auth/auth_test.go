package auth

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/truce"
)

func TestNew(t *testing.T) {
	rand := bytes.NewReader(bytes.Repeat([]byte{0xfb}, 32))
	now := time.Date(2026, 11, 25, 20, 0, 0, 123456789, time.FixedZone("EET", 2*3600))
	secret, tok, err := New(rand, "GBR", truce.OrgNation, truce.RoleMonitor, "patrol 4", now)
	if err != nil {
		t.Fatal(err)
	}
	// 0xfb 0xfb 0xfb is 111110 111111 101111 111011 in sextets: "-_v7" in
	// base64url; the last two bytes give 111110 111111 1011(00): "-_s".
	if want := Prefix + strings.Repeat("-_v7", 10) + "-_s"; secret != want {
		t.Errorf("secret: got %q, want %q", secret, want)
	}
	sum := sha256.Sum256([]byte(secret))
	if tok.Hash != sum || Hash(secret) != sum {
		t.Errorf("hash: got %x, want %x", tok.Hash, sum)
	}
	if got, want := tok.ID, hex.EncodeToString(sum[:6]); got != want {
		t.Errorf("ID: got %s, want %s", got, want)
	}
	if tok.Org != "GBR" || tok.Kind != truce.OrgNation || tok.Role != truce.RoleMonitor || tok.Label != "patrol 4" {
		t.Errorf("token: got %+v", tok)
	}
	if want := time.Date(2026, 11, 25, 18, 0, 0, 123457000, time.UTC); !tok.Created.Equal(want) || tok.Created.Location() != time.UTC {
		t.Errorf("Created: got %v, want %v in UTC", tok.Created, want)
	}
}

func TestNewRejects(t *testing.T) {
	rand := bytes.NewReader(make([]byte, 1024))
	for _, tt := range []struct {
		org   truce.OrgID
		kind  truce.OrgKind
		role  truce.Role
		label string
		field string
	}{
		{"", truce.OrgNation, truce.RoleViewer, "", "org"},
		{"has space", truce.OrgNation, truce.RoleViewer, "", "org"},
		{"GBR", "club", truce.RoleViewer, "", "kind"},
		{"GBR", truce.OrgNation, "king", "", "role"},
		{"GBR", truce.OrgNation, truce.RoleViewer, strings.Repeat("x", 201), "label"},
	} {
		_, _, err := New(rand, tt.org, tt.kind, tt.role, tt.label, time.Unix(0, 0))
		var ve *truce.ValidationError
		if !errors.As(err, &ve) || ve.Field != tt.field {
			t.Errorf("New(%q, %q, %q): got %v, want a validation error of field %s", tt.org, tt.kind, tt.role, err, tt.field)
		}
	}
	if _, _, err := New(bytes.NewReader(make([]byte, 31)), "GBR", truce.OrgNation, truce.RoleViewer, "", time.Unix(0, 0)); err == nil {
		t.Error("New with 31 bytes of randomness: got no error")
	}
}

func TestBearer(t *testing.T) {
	for _, tt := range []struct {
		header, secret string
		ok             bool
	}{
		{"Bearer truce_abc", "truce_abc", true},
		{"bearer  truce_abc ", "truce_abc", true},
		{"Basic dXNlcjpwYXNz", "", false},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"", "", false},
	} {
		secret, ok := Bearer(tt.header)
		if secret != tt.secret || ok != tt.ok {
			t.Errorf("Bearer(%q): got %q, %v; want %q, %v", tt.header, secret, ok, tt.secret, tt.ok)
		}
	}
}
