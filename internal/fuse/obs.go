package fuse

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
	"time"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// Held limits of the geometry (see the package doc).
const (
	minCEP       = 5.0    // metres: no report is located better than this
	minCross     = 5.0    // metres: floor of a bearing's cross-track error
	minBandHalf  = 50.0   // metres: floor of half a distance band
	maxHalfAngle = 80.0   // degrees: widest wedge half-angle
	cepSigma     = 1.1774 // CEP of a circular normal distribution in σ
	spaceK       = 2.0    // CEP circles meet within spaceK × (cep1 + cep2)
	wedgeSigmas  = 3.0    // a wedge is bearing ± wedgeSigmas σ
)

// obs flags.
const (
	fLive     = 1 << iota // the slot holds an observation of the window
	fObserver             // observer report (a, b, c = bearing, dmin, dmax)
	fFire                 // has a fire bearing
	fParty                // a party's report
	fWeak                 // a weak report: attaches to a strong one, never bridges
)

// obs is the compact state of one observation in the window (136 bytes):
// everything fusion needs, with strings interned in the Engine.
//
// Strong reports form union-find trees (parent); a weak report attached to
// an incident has for parent a strong member of it, and is its own parent
// when it is an incident alone. Every incident's members are a circular
// doubly linked list (next, prev).
type obs struct {
	v       vec     // location, or observer position
	t, u    int64   // time and its uncertainty, µs
	a, b, c float64 // location: a = CEP (m); observer: bearing (°), dmin, dmax (m)
	fire    float64 // fire bearing, degrees
	key     uint64  // first 8 bytes of SHA-256(org, source, source id)
	id      uint64  // journal sequence number
	parent  int32   // union-find parent slot
	next    int32   // next member of the incident (circular list)
	prev    int32   // previous member of the incident
	gen     uint32  // allocation number of the slot (see Engine.pend)
	size    int32   // members, at a root
	stamp   uint32  // visit mark of the current query
	count   int32
	src     uint32 // interned (org, source)
	mark    uint32 // interned marking
	party   uint16 // interned claimant (0: not a party report)
	cat     uint8  // interned category
	weapon  uint8  // interned weapon class (0: none)
	method  uint8  // interned method
	grade   uint8  // Admiralty grade index, see gradeIndex
	flags   uint8
}

// keyOf returns the ordering key of an observation: SHA-256 over its
// recording organisation, source and source id, NUL-separated.
func keyOf(org truce.OrgID, source, sourceID string) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(org))
	h.Write([]byte{0})
	h.Write([]byte(source))
	h.Write([]byte{0})
	h.Write([]byte(sourceID))
	var s [sha256.Size]byte
	h.Sum(s[:0])
	return s
}

// gradeIndex maps an Admiralty grade to 0..35 (A1 = 0, F6 = 35); grades
// out of range count as F6.
func gradeIndex(r truce.Reliability, c truce.Credibility) uint8 {
	if !r.Valid() {
		r = 'F'
	}
	if !c.Valid() {
		c = 6
	}
	return uint8(r-'A')*6 + uint8(c-1)
}

// interned is a string table: index 0 is reserved for "none".
type interned[T comparable] struct {
	index map[T]uint32
	vals  []T
}

func (t *interned[T]) id(v T) uint32 {
	if i, ok := t.index[v]; ok {
		return i
	}
	if t.index == nil {
		var zero T
		t.index = map[T]uint32{zero: 0}
		t.vals = append(t.vals, zero)
		if v == zero {
			return 0
		}
	}
	i := uint32(len(t.vals))
	t.index[v] = i
	t.vals = append(t.vals, v)
	return i
}

type srcKey struct {
	org    truce.OrgID
	source string
}

// methodInfo is the per-method configuration, by interned method index.
type methodInfo struct {
	name  truce.Method
	gate  int64   // µs
	sigma float64 // bearing error, radians
}

// prep turns an input into its compact record.
func (e *Engine) prep(in Input) obs {
	o := &in.Observation
	k := keyOf(in.Org, o.Source, o.SourceID)
	r := obs{
		t:     o.Time.UnixMicro(),
		u:     max(int64(o.TimeUncertainty/time.Microsecond), 0),
		key:   binary.BigEndian.Uint64(k[:8]),
		id:    in.ID,
		count: int32(min(max(o.Count, 0), math.MaxInt32)),
		src:   e.srcs.id(srcKey{in.Org, o.Source}),
		mark:  e.markID(o.Marking),
		cat:   e.catID(o.Category),
		grade: gradeIndex(o.Reliability, o.Credibility),
		flags: fLive,
	}
	r.method = e.methodID(o.Method)
	if o.Weapon != "" {
		r.weapon = e.weaponID(o.Weapon)
	}
	if o.HasFireBearing {
		r.flags |= fFire
		r.fire = o.FireBearing
	}
	if o.Party != "" {
		r.party = uint16(e.parties.id(string(o.Party)))
	} else if o.Method == truce.MethodPartyReport {
		// A party report whose party is not named: the recording
		// organisation stands for the claimant (never listed as one).
		r.party = uint16(e.parties.id("\x00" + string(in.Org)))
	}
	if r.party != 0 {
		r.flags |= fParty
	}
	if r.party != 0 || o.Method == truce.MethodPartyReport || o.Method == truce.MethodOSINT {
		r.flags |= fWeak
	}
	switch {
	case o.Location != nil:
		r.v = unit(o.Location.Point)
		r.a = max(o.Location.CEP, minCEP)
	case o.Observer != nil:
		r.flags |= fObserver
		r.v = unit(o.Observer.Point)
		r.a = o.Observer.Bearing
		r.b = max(o.Observer.DistanceMin, 0)
		r.c = max(o.Observer.DistanceMax, r.b)
	default: // no place: a point at 0,0 that matches nothing real
		r.v = unit(geo.Point{})
		r.a = minCEP
	}
	return r
}

func (e *Engine) markID(m truce.Marking) uint32 {
	k := string(m.TLP)
	for _, o := range m.RelTo {
		k += "\x00" + string(o)
	}
	i := e.markKeys.id(k)
	if int(i) >= len(e.marks) {
		m.RelTo = append([]truce.OrgID(nil), m.RelTo...)
		e.marks = append(e.marks, m)
	}
	return i
}

func (e *Engine) catID(c truce.Category) uint8 {
	i := e.cats.id(c)
	if i > 255 {
		panic("fuse: more than 255 categories")
	}
	e.catInfoOf(uint8(i))
	return uint8(i)
}

func (e *Engine) weaponID(w truce.WeaponClass) uint8 {
	i := e.weapons.id(w)
	if i > 255 {
		panic("fuse: more than 255 weapon classes")
	}
	return uint8(i)
}

func (e *Engine) methodID(m truce.Method) uint8 {
	i := e.methodIdx.id(m)
	if i > 255 {
		panic("fuse: more than 255 methods")
	}
	for int(i) >= len(e.methods) {
		e.methods = append(e.methods, e.cfg.info(m))
	}
	return uint8(i)
}
