package truce

import (
	"slices"
	"strings"
	"time"
)

// TLP is a Traffic Light Protocol 2.0 label: how far a record may travel.
type TLP string

// TLP 2.0 labels, from the widest audience to the narrowest.
const (
	TLPClear       TLP = "CLEAR"
	TLPGreen       TLP = "GREEN"
	TLPAmber       TLP = "AMBER"
	TLPAmberStrict TLP = "AMBER+STRICT"
	TLPRed         TLP = "RED"
)

var tlps = vocabulary[TLP]{"TLP label", []Term{
	{string(TLPClear), "anyone, the public included"},
	{string(TLPGreen), "every organisation of the mechanism (coalition bodies, nations, parties), not the public"},
	{string(TLPAmber), "the coalition bodies and the coalition nations, and the organisations named in rel_to"},
	{string(TLPAmberStrict), "the coalition bodies only, and the organisations named in rel_to"},
	{string(TLPRed), "only the organisations named in rel_to"},
}}

// TLPs lists every TLP label with its audience in truce.
func TLPs() []Term { return slices.Clone(tlps.terms) }

// ParseTLP returns the label named s; "TLP:" before it is accepted and case
// is ignored.
func ParseTLP(s string) (TLP, error) {
	return tlps.parse(strings.ToUpper(strings.TrimPrefix(strings.TrimPrefix(s, "TLP:"), "tlp:")))
}

// Valid reports whether l is a known label.
func (l TLP) Valid() bool { return tlps.valid(l) }

// OrgID names an organisation: "coalition", "public", a party such as "UA",
// a nation such as "GBR".
type OrgID string

// ValidOrgID reports whether s is usable as an organisation name: 1 to 64
// ASCII letters, digits, '-', '_' or '.', starting with a letter or digit.
func ValidOrgID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case i > 0 && (c == '-' || c == '_' || c == '.'):
		default:
			return false
		}
	}
	return true
}

// Marking says who may see a record: a TLP label and, optionally, the
// organisations it is also released to. The organisation that recorded it
// always sees it.
type Marking struct {
	TLP   TLP
	RelTo []OrgID // sorted, without repeats
}

func (m Marking) String() string {
	s := "TLP:" + string(m.TLP)
	if len(m.RelTo) > 0 {
		ids := make([]string, len(m.RelTo))
		for i, o := range m.RelTo {
			ids[i] = string(o)
		}
		s += " REL TO " + strings.Join(ids, ", ")
	}
	return s
}

// OrgKind is what kind of organisation an OrgID names; visibility depends
// on it.
type OrgKind string

// Organisation kinds.
const (
	OrgCoalition OrgKind = "coalition"
	OrgNation    OrgKind = "nation"
	OrgParty     OrgKind = "party"
	OrgPublic    OrgKind = "public"
)

var orgKinds = vocabulary[OrgKind]{"organisation kind", []Term{
	{string(OrgCoalition), "a body of the coalition: the monitoring mission, the Special Commission, the secretariat"},
	{string(OrgNation), "a nation of the coalition"},
	{string(OrgParty), "a party to the ceasefire (its id is the party's id in the agreement)"},
	{string(OrgPublic), "the public and the press"},
}}

// OrgKinds lists every organisation kind with its meaning.
func OrgKinds() []Term { return slices.Clone(orgKinds.terms) }

// ParseOrgKind returns the organisation kind named s.
func ParseOrgKind(s string) (OrgKind, error) { return orgKinds.parse(s) }

// Valid reports whether k is a known organisation kind.
func (k OrgKind) Valid() bool { return orgKinds.valid(k) }

// Role is what a token's holder does; it decides which operations they may
// perform. What they may see is decided by markings and their organisation.
type Role string

// Roles.
const (
	RoleAdmin        Role = "admin"
	RoleAnalyst      Role = "analyst"
	RoleCommissioner Role = "commissioner"
	RoleMonitor      Role = "monitor"
	RoleSensor       Role = "sensor"
	RoleLiaison      Role = "liaison"
	RolePlanner      Role = "planner"
	RoleViewer       Role = "viewer"
)

var roles = vocabulary[Role]{"role", []Term{
	{string(RoleAdmin), "administers the installation; reads and reports"},
	{string(RoleAnalyst), "monitoring cell analyst: triages, fuses, verifies and attributes; reads and reports"},
	{string(RoleCommissioner), "Special Commission member: records findings and remedies; reads"},
	{string(RoleMonitor), "monitor in the field: reports and reads"},
	{string(RoleSensor), "a sensor or device: reports only, reads nothing"},
	{string(RoleLiaison), "a party's liaison: files the party's claims and reads what is released to the party"},
	{string(RolePlanner), "force planner or C2 officer: reads"},
	{string(RoleViewer), "reads what its organisation may see"},
}}

// Roles lists every role with its meaning.
func Roles() []Term { return slices.Clone(roles.terms) }

// ParseRole returns the role named s.
func ParseRole(s string) (Role, error) { return roles.parse(s) }

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return roles.valid(r) }

// Principal is who is calling: an organisation, its kind and a role.
type Principal struct {
	Org  OrgID
	Kind OrgKind
	Role Role
}

// CanReport reports whether p may submit observations.
func (p Principal) CanReport() bool {
	switch p.Role {
	case RoleAdmin, RoleAnalyst, RoleMonitor, RoleSensor, RoleLiaison:
		return p.Kind != OrgPublic
	}
	return false
}

// CanRequestWindow reports whether p may request a window of silence: the
// coalition's admins, analysts, commissioners and planners.
func (p Principal) CanRequestWindow() bool {
	switch p.Role {
	case RoleAdmin, RoleAnalyst, RoleCommissioner, RolePlanner:
		return p.Kind == OrgCoalition
	}
	return false
}

// AcknowledgesFor returns the party on whose behalf p may acknowledge a
// window of silence: a party's liaison acknowledges for their own party
// only. ok is false for everyone else.
func (p Principal) AcknowledgesFor() (party PartyID, ok bool) {
	if p.Role != RoleLiaison || p.Kind != OrgParty {
		return "", false
	}
	return PartyID(p.Org), true
}

// CanRead reports whether p may read records at all (what it sees is then
// decided record by record by CanSee).
func (p Principal) CanRead() bool { return p.Role.Valid() && p.Role != RoleSensor }

// CanSee reports whether p may see a record with marking m recorded by the
// organisation origin. The rule, by label:
//
//	CLEAR         everyone
//	GREEN         every organisation except the public
//	AMBER         coalition bodies and nations, plus rel_to
//	AMBER+STRICT  coalition bodies, plus rel_to
//	RED           rel_to only
//
// and the recording organisation always. An unknown label is seen by no one
// but the recorder. Roles do not widen what an organisation sees.
func (p Principal) CanSee(m Marking, origin OrgID) bool {
	if !p.CanRead() {
		return false
	}
	if p.Org == origin || slices.Contains(m.RelTo, p.Org) {
		return true
	}
	switch m.TLP {
	case TLPClear:
		return true
	case TLPGreen:
		return p.Kind == OrgCoalition || p.Kind == OrgNation || p.Kind == OrgParty
	case TLPAmber:
		return p.Kind == OrgCoalition || p.Kind == OrgNation
	case TLPAmberStrict:
		return p.Kind == OrgCoalition
	}
	return false
}

// Token is an API credential. Only the SHA-256 hash of the secret is kept;
// ID is a short public handle for it (the first 12 hex digits of the hash).
type Token struct {
	ID      string
	Hash    [32]byte
	Org     OrgID
	Kind    OrgKind
	Role    Role
	Label   string
	Created time.Time
}

// Principal returns who holds t.
func (t *Token) Principal() Principal { return Principal{Org: t.Org, Kind: t.Kind, Role: t.Role} }
