package fuse

import (
	"cmp"
	"encoding/hex"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/truce-dev/truce/internal/truce"
)

// Confidence of one source by its Admiralty grade: reliability × credibility.
var (
	reliabilityP = [6]float64{0.95, 0.85, 0.70, 0.50, 0.30, 0.50} // A..F
	credibilityP = [6]float64{1.00, 0.85, 0.65, 0.40, 0.15, 0.55} // 1..6
	partyFactor  = 0.3                                            // a party's claim counts for at most 0.3
)

// gradeP[party][grade] is the probability one source contributes; gradeL
// the same as a fixed-point log(1−p), so that combining sources is an
// exact integer sum whatever their order.
var gradeP, gradeL = func() (p [2][36]float64, l [2][36]int64) {
	for g := range 36 {
		x := reliabilityP[g/6] * credibilityP[g%6]
		p[0][g], p[1][g] = x, partyFactor*x
		for i := range 2 {
			l[i][g] = int64(math.Round(math.Log1p(-p[i][g]) * 0x1p40))
		}
	}
	return p, l
}()

// summary is what the members of an incident say together. Every field is
// a function of the member set: sums are exact integers, extremes break
// ties by value.
type summary struct {
	main, orig acc // reports of the event; of its origin (outgoing fire, muzzle flash)
	minT, maxT int64
	maxCount   int32
	cat        uint8
	minKey     uint64 // of all members
	sKey, sID  uint64 // least (key, id) of the strong members: the rank
	strong     int32  // strong members
	fireS      int64  // Σ sin, Σ cos of fire bearings, fixed point 2⁻⁴⁰
	fireC      int64
	fireN      int32
	weapons    []uint64 // weapon<<32 | reports, sorted
	sources    []uint64 // src<<8 | grade: best grade of each non-party source, sorted
	claimants  []uint64 // party<<8 | grade: best grade of each claimant, sorted
	logQ       int64    // Σ gradeL over sources and claimants
	nonParty   int32
	size       int32
	refs       []truce.ObservationRef // in id order; nil when built on demand
}

var emptySummary = summary{minT: math.MaxInt64, maxT: math.MinInt64, minKey: math.MaxUint64, sKey: math.MaxUint64, sID: math.MaxUint64}

func newSummary() *summary {
	s := emptySummary
	return &s
}

// add adds member o (slot i) to s.
func (e *Engine) addTo(s *summary, o *obs, withRefs bool) {
	c := e.contribution(o)
	a := &s.main
	if e.catInfoOf(o.cat).orig {
		a = &s.orig
	}
	a.addC(&c, 2)
	s.minT, s.maxT = min(s.minT, o.t), max(s.maxT, o.t)
	s.maxCount = max(s.maxCount, o.count)
	if s.size == 0 || e.catBefore(o.cat, s.cat) {
		s.cat = o.cat
	}
	s.minKey = min(s.minKey, o.key)
	if o.flags&fWeak == 0 {
		s.strong++
		if rankLess(o.key, o.id, s.sKey, s.sID) {
			s.sKey, s.sID = o.key, o.id
		}
	}
	if o.flags&fFire != 0 {
		sn, cs := math.Sincos(o.fire * math.Pi / 180)
		s.fireS += int64(math.Round(sn * 0x1p40))
		s.fireC += int64(math.Round(cs * 0x1p40))
		s.fireN++
	}
	if o.weapon != 0 {
		s.weapons = bump(s.weapons, uint64(o.weapon)<<32, 1)
	}
	if o.flags&fParty != 0 {
		s.claimants, s.logQ = best(s.claimants, s.logQ, uint64(o.party), o.grade, 1)
	} else {
		s.nonParty++
		s.sources, s.logQ = best(s.sources, s.logQ, uint64(o.src), o.grade, 0)
	}
	s.size++
	if withRefs {
		r := e.ref(o)
		n := len(s.refs)
		if n == 0 || s.refs[n-1].ID < r.ID {
			s.refs = append(s.refs, r) // never overwrites what was handed out
		} else {
			i, _ := slices.BinarySearchFunc(s.refs, r.ID, func(x truce.ObservationRef, id uint64) int { return cmp.Compare(x.ID, id) })
			refs := make([]truce.ObservationRef, 0, n+1+n/4)
			refs = append(append(append(refs, s.refs[:i]...), r), s.refs[i:]...)
			s.refs = refs
		}
	}
}

// merge adds the members of t (disjoint from those of s) to s.
func (e *Engine) merge(s, t *summary) {
	s.main.merge(&t.main)
	s.orig.merge(&t.orig)
	s.minT, s.maxT = min(s.minT, t.minT), max(s.maxT, t.maxT)
	s.maxCount = max(s.maxCount, t.maxCount)
	if e.catBefore(t.cat, s.cat) {
		s.cat = t.cat
	}
	s.minKey = min(s.minKey, t.minKey)
	s.strong += t.strong
	if rankLess(t.sKey, t.sID, s.sKey, s.sID) {
		s.sKey, s.sID = t.sKey, t.sID
	}
	s.fireS += t.fireS
	s.fireC += t.fireC
	s.fireN += t.fireN
	for _, w := range t.weapons {
		s.weapons = bump(s.weapons, w&^0xffffffff, w&0xffffffff)
	}
	for _, c := range t.claimants {
		s.claimants, s.logQ = best(s.claimants, s.logQ, c>>8, uint8(c), 1)
	}
	for _, c := range t.sources {
		s.sources, s.logQ = best(s.sources, s.logQ, c>>8, uint8(c), 0)
	}
	s.nonParty += t.nonParty
	s.size += t.size
	switch {
	case len(t.refs) == 0:
	case len(s.refs) == 0 || s.refs[len(s.refs)-1].ID < t.refs[0].ID:
		s.refs = append(s.refs, t.refs...) // never overwrites what was handed out
	default:
		refs := make([]truce.ObservationRef, 0, len(s.refs)+len(t.refs))
		i, j := 0, 0
		for i < len(s.refs) && j < len(t.refs) {
			if s.refs[i].ID < t.refs[j].ID {
				refs = append(refs, s.refs[i])
				i++
			} else {
				refs = append(refs, t.refs[j])
				j++
			}
		}
		s.refs = append(append(refs, s.refs[i:]...), t.refs[j:]...)
	}
}

// bump adds n to the counter keyed k (high 32 bits) in sorted list l.
func bump(l []uint64, k, n uint64) []uint64 {
	i, found := slices.BinarySearchFunc(l, k, func(x, k uint64) int { return cmp.Compare(x&^0xffffffff, k) })
	if found {
		l[i] += n
		return l
	}
	return slices.Insert(l, i, k|n)
}

// best records grade g for source k in sorted list l (k<<8 | grade),
// keeping the grade of highest probability, and updates logQ.
func best(l []uint64, logQ int64, k uint64, g uint8, party int) ([]uint64, int64) {
	i, found := slices.BinarySearchFunc(l, k, func(x, k uint64) int { return cmp.Compare(x>>8, k) })
	if !found {
		return slices.Insert(l, i, k<<8|uint64(g)), logQ + gradeL[party][g]
	}
	old := uint8(l[i])
	if better(g, old, party) {
		l[i] = k<<8 | uint64(g)
		logQ += gradeL[party][g] - gradeL[party][old]
	}
	return l, logQ
}

// better reports whether grade g gives a higher probability than h (ties
// to the lower index, so the kept grade does not depend on order).
func better(g, h uint8, party int) bool {
	pg, ph := gradeP[party][g], gradeP[party][h]
	return pg > ph || pg == ph && g < h
}

func (e *Engine) catBefore(a, b uint8) bool {
	ia, ib := e.catInfoOf(a), e.catInfoOf(b)
	if ia.rank != ib.rank {
		return ia.rank < ib.rank
	}
	return ia.name < ib.name
}

func (e *Engine) contribution(o *obs) contribution {
	if o.flags&fObserver != 0 {
		return observerContribution(o.v, o.a, e.methods[o.method].sigma, o.b, o.c)
	}
	return pointContribution(o.v, o.a)
}

func (e *Engine) ref(o *obs) truce.ObservationRef {
	src := e.srcs.vals[o.src]
	return truce.ObservationRef{ID: o.id, Org: src.org, Source: src.source, Method: e.methods[o.method].name, Marking: e.marks[o.mark]}
}

// rankLess orders (key, id) pairs: by key, then id.
func rankLess(k1, id1, k2, id2 uint64) bool {
	return k1 < k2 || k1 == k2 && id1 < id2
}

// idKey returns the key an incident is named after: the least key of its
// strong members, or of its only (weak) member when it has none.
func (s *summary) idKey() uint64 {
	if s.strong > 0 {
		return s.sKey
	}
	return s.minKey
}

// incidentID names the incident whose naming member has key k: "inc-" and
// the first 16 hex digits (64 bits) of the SHA-256 behind the key.
func incidentID(k uint64) string {
	var b [8]byte
	for i := range b {
		b[i] = byte(k >> (56 - 8*i))
	}
	return "inc-" + hex.EncodeToString(b[:])
}

// incident renders s; refs are the members in id order.
func (e *Engine) incident(s *summary, refs []truce.ObservationRef) truce.Incident {
	in := truce.Incident{
		ID:           incidentID(s.idKey()),
		Category:     e.catInfoOf(s.cat).name,
		Count:        int(s.maxCount),
		Start:        time.UnixMicro(s.minT).UTC(),
		End:          time.UnixMicro(s.maxT).UTC(),
		Sources:      len(s.sources) + len(s.claimants),
		Status:       truce.StatusReported,
		Observations: refs[:len(refs):len(refs)],
	}
	var bestW uint64
	for _, w := range s.weapons {
		n, bn := w&0xffffffff, bestW&0xffffffff
		if n > bn || n == bn && e.weapons.vals[w>>32] < e.weapons.vals[bestW>>32] {
			bestW = w
		}
	}
	if bestW != 0 {
		in.Weapon = e.weapons.vals[bestW>>32]
	}
	loc := &s.main
	if loc.empty() {
		loc = &s.orig
	}
	sol := loc.solve()
	in.Location, in.Uncertainty = pointOf(sol.p), sol.cep
	if !s.orig.empty() {
		o := pointOf(s.orig.solve().p)
		in.Origin = &o
	}
	if s.fireN > 0 {
		b := math.Atan2(float64(s.fireS), float64(s.fireC)) * 180 / math.Pi
		if b < 0 {
			b += 360
		}
		in.FireBearing, in.HasFireBearing = b, true
	}
	in.Confidence = min(max(1-math.Exp(float64(s.logQ)/0x1p40), 0), 1)
	in.Likelihood = truce.LikelihoodOf(in.Confidence)
	for _, c := range s.claimants {
		if p := e.parties.vals[c>>8]; !strings.HasPrefix(p, "\x00") {
			in.Claimants = append(in.Claimants, truce.PartyID(p))
		}
	}
	slices.Sort(in.Claimants)
	if s.nonParty == 0 {
		in.Status = truce.StatusUnverified
	}
	return in
}
