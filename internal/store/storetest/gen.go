package storetest

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/truce"
)

// gen makes random, valid, canonical observations from a seeded source.
type gen struct {
	r *rand.Rand
	n int
}

func newGen(seed uint64) *gen { return &gen{r: rand.New(rand.NewPCG(seed, 0x7275636))} }

var (
	genSources    = []string{"acoustic-1", "uav-7", "monitor", "radar-2"}
	genCategories = []truce.Category{truce.CategoryExplosion, truce.CategoryImpact, truce.CategoryOutgoingFire, truce.CategoryMuzzleFlash, truce.CategoryUAV}
	genMethods    = []truce.Method{truce.MethodHeard, truce.MethodSeen, truce.MethodAcoustic, truce.MethodRadar}
	genTexts      = []string{"", "two impacts north of the bridge", "\"quoted\" \\ back\tslash\n", "Авдіївка — 🚀 U+2028:\u2028.", "\x01\x1f control"}
	// baseTime is the observations' earliest time.
	baseTime = time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)
)

// observation returns a CLEAR observation from source, unique by its
// source id, around (lat, lon) = (48, 37) or near the antimeridian.
func (g *gen) observation(source string) truce.Observation {
	g.n++
	r := g.r
	o := truce.Observation{
		Source:          source,
		SourceID:        fmt.Sprintf("%s-%d", source, g.n),
		Method:          genMethods[r.IntN(len(genMethods))],
		Category:        genCategories[r.IntN(len(genCategories))],
		Count:           1 + r.IntN(5),
		Time:            baseTime.Add(time.Duration(r.Int64N(int64(48*time.Hour))) + 123*time.Nanosecond),
		TimeUncertainty: time.Duration(r.IntN(600)) * time.Second,
		Reliability:     truce.Reliability('A' + r.IntN(6)),
		Credibility:     truce.Credibility(1 + r.IntN(6)),
		Text:            genTexts[r.IntN(len(genTexts))],
		Marking:         truce.Marking{TLP: truce.TLPClear},
	}
	if r.IntN(3) == 0 {
		o.Weapon = truce.WeaponMLRS
	}
	lat, lon := 47+2*r.Float64(), 36+2*r.Float64()
	if r.IntN(4) == 0 { // near the antimeridian, either side
		lat, lon = -17+r.Float64(), 179+2*r.Float64()
		if lon > 180 {
			lon -= 360
		}
	}
	if r.IntN(3) == 0 {
		o.Observer = &truce.Observer{Point: geo.Point{Lat: lat, Lon: lon}, Bearing: 360 * r.Float64(), DistanceMin: 1000, DistanceMax: 1000 + 5000*r.Float64()}
	} else {
		o.Location = &truce.Location{Point: geo.Point{Lat: lat, Lon: lon}, CEP: 500 * r.Float64()}
	}
	if r.IntN(2) == 0 {
		o.FireBearing, o.HasFireBearing = 360*r.Float64(), true
	}
	if r.IntN(4) == 0 {
		o.Party = "UA"
	}
	return o.Canonical()
}

// entry wraps o as an observation entry recorded by org.
func entry(org truce.OrgID, o truce.Observation) journal.Entry {
	return journal.Entry{Kind: journal.KindObservation, Org: org, Observation: &o}
}
