package sim

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/truce-dev/truce/internal/agreement"
	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// BearingSigma is the standard deviation, degrees, of a monitor's bearing.
const BearingSigma = 5.0

var (
	uavNations = []truce.OrgID{"GBR", "FRA", "DEU", "POL", "CAN"}
	amber      = truce.Marking{TLP: truce.TLPAmber}
	green      = truce.Marking{TLP: truce.TLPGreen}
)

// run observes every planned event, adds the parties' false complaints
// and orders the reports by when they are sent.
func (g *gen) run() *Scenario {
	for i := range g.events {
		ev := &g.events[i]
		id := len(g.truth)
		before := len(g.reports)
		switch ev.kind {
		case kFire:
			g.observeFire(id, ev)
		case kFlare:
			g.observeFlare(id, ev)
		case kSighting:
			g.observeSighting(id, ev)
		case kRestriction:
			g.observeRestriction(id, ev)
		}
		if len(g.reports) == before {
			continue // nobody saw it: it is not in the record
		}
		ev.ID = id
		g.truth = append(g.truth, ev.Event)
	}
	g.falseComplaints()
	slices.SortStableFunc(g.reports, func(x, y Report) int { return x.SentAt.Compare(y.SentAt) })
	sc := &Scenario{Observations: g.reports, Truth: g.truth}
	if g.window != nil {
		sc.Windows = []truce.SilenceWindow{*g.window}
	}
	return sc
}

// emit records one report of event ev (-1 for none) from source src, sent
// delay after the observation's time.
func (g *gen) emit(ev int, org truce.OrgID, src string, o truce.Observation, delay time.Duration) {
	g.seq[src]++
	o.Source = src
	o.SourceID = fmt.Sprintf("%s-%06d", src, g.seq[src])
	if o.Count < 1 {
		o.Count = 1
	}
	if o.Observer != nil {
		o.Observer.Bearing = normBearing(o.Observer.Bearing)
	}
	if o.HasFireBearing {
		o.FireBearing = normBearing(o.FireBearing)
	}
	o = o.Canonical()
	g.reports = append(g.reports, Report{Observation: o, Org: org, Event: ev, SentAt: o.Time.Add(delay)})
}

// normBearing returns b in [0, 360) at the held precision.
func normBearing(b float64) float64 {
	b = truce.Round(math.Mod(math.Mod(b, 360)+360, 360), truce.BearingUnit)
	if b >= 360 {
		b = 0
	}
	return b
}

// scatter returns p displaced as by a circular normal error of the given
// CEP (metres).
func (g *gen) scatter(p geo.Point, cep float64) geo.Point {
	sigma := cep / 1.1774
	r := sigma * math.Sqrt(-2*math.Log(1-g.r.Float64()))
	return geo.Destination(p, 360*g.r.Float64(), r)
}

func (g *gen) jitter(t time.Time, sd time.Duration) time.Time {
	return t.Add(time.Duration(g.r.NormFloat64() * float64(sd))).Round(time.Millisecond)
}

func (g *gen) delay(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(g.r.Int64N(int64(hi-lo)+1)).Round(time.Second)
}

// nearestSensors returns the sensors of the kind within r metres of p,
// nearest first.
func (g *gen) nearestSensors(p geo.Point, camera bool, r float64) []int {
	var out []int
	var ds []float64
	for i, s := range g.sensors {
		if s.camera == camera {
			if d := geo.Distance(p, s.p); d <= r {
				out = append(out, i)
				ds = append(ds, d)
			}
		}
	}
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		if ds[a] < ds[b] {
			return -1
		}
		if ds[a] > ds[b] {
			return 1
		}
		return 0
	})
	res := make([]int, len(idx))
	for i, j := range idx {
		res[i] = out[j]
	}
	return res
}

// nearestPatrol returns the patrol nearest p at time t and its distance.
func (g *gen) nearestPatrol(p geo.Point, t time.Time) (int, float64) {
	h := min(max(int(t.Sub(g.cfg.Start)/time.Hour), 0), g.cfg.Hours-1)
	best, bd := -1, math.Inf(1)
	for i := range g.patrols {
		if d := geo.Distance(p, g.patrols[i].pos[h]); d < bd {
			best, bd = i, d
		}
	}
	return best, bd
}

// patrolReport emits a monitor's report of ev: position, bearing with
// Gaussian error, a distance band holding the true distance, time to the
// minute.
func (g *gen) patrolReport(id int, ev *planned, pi int, m truce.Method, cat truce.Category, w truce.WeaponClass, text string) {
	h := min(max(int(ev.Time.Sub(g.cfg.Start)/time.Hour), 0), g.cfg.Hours-1)
	from := g.patrols[pi].pos[h]
	d := geo.Distance(from, ev.Point)
	width := d * g.uniform(0.3, 0.6)
	lo := math.Floor((d-width*g.uniform(0.1, 0.9))/100) * 100
	hi := math.Ceil((lo+width)/100) * 100
	lo = max(lo, 0)
	if hi < d {
		hi = math.Ceil(d/100) * 100
	}
	o := truce.Observation{
		Method: m, Category: cat, Weapon: w, Count: ev.Count,
		Time:            ev.Time.Truncate(time.Minute),
		TimeUncertainty: time.Minute,
		Observer: &truce.Observer{Point: from, Bearing: geo.Bearing(from, ev.Point) + g.r.NormFloat64()*BearingSigma,
			DistanceMin: lo, DistanceMax: hi},
		Reliability: 'A', Credibility: 2, Text: text, Marking: amber,
	}
	g.emit(id, Coalition, g.patrols[pi].id, o, g.delay(10*time.Minute, 90*time.Minute))
}

func (g *gen) observeFire(id int, ev *planned) {
	w := ev.Weapon
	hr := hearRange[w]
	n := 0
	// Acoustic sensors: up to two of the nearest within range.
	for k, si := range g.nearestSensors(ev.Point, false, min(hr, 12000)) {
		if k == 2 || g.r.Float64() > 0.85 {
			break
		}
		g.acoustic(id, ev, si, g.uniform(60, 250))
		n++
	}
	// A camera within 6 km with a line of sight.
	if cs := g.nearestSensors(ev.Point, true, 6000); len(cs) > 0 && g.r.Float64() < 0.7 {
		o := truce.Observation{
			Method: truce.MethodCamera, Category: truce.CategoryExplosion, Count: 1,
			Time: g.jitter(ev.Time, time.Second), TimeUncertainty: 2 * time.Second,
			Location:    &truce.Location{Point: g.scatter(ev.Point, 300), CEP: 300},
			Reliability: 'B', Credibility: 2, Marking: amber,
			Text: "Flash and smoke recorded by fixed camera",
		}
		g.emit(id, Coalition, g.sensors[cs[0]].id, o, g.delay(20*time.Second, 2*time.Minute))
		n++
	}
	// Fire on a repair under a window of silence is seen by the monitors
	// escorting the repair crew.
	if slices.Contains(ev.Violates, truce.RuleSilence) {
		o := truce.Observation{
			Method: truce.MethodSeen, Category: ev.Category, Weapon: w, Count: ev.Count,
			Time: g.jitter(ev.Time, 30*time.Second), TimeUncertainty: time.Minute,
			Location:    &truce.Location{Point: g.scatter(ev.Point, 100), CEP: 150},
			Reliability: 'A', Credibility: 2, Marking: amber,
			Text: fmt.Sprintf("Repair crew's escort saw %d impacts near the station during the window of silence", ev.Count),
		}
		g.emit(id, Coalition, "repair-escort", o, g.delay(2*time.Minute, 10*time.Minute))
		n++
	}
	// The nearest patrol hears it, or sees it when close.
	if pi, d := g.nearestPatrol(ev.Point, ev.Time); pi >= 0 && d <= hr && g.r.Float64() < 0.85 {
		m, cat, wc := truce.MethodHeard, truce.CategoryExplosion, truce.WeaponClass("")
		text := fmt.Sprintf("Heard %d undetermined explosion(s)", ev.Count)
		if ev.Category == truce.CategoryBurst {
			cat, text = truce.CategoryBurst, fmt.Sprintf("Heard %d burst(s) of automatic fire", ev.Count)
		}
		if g.r.Float64() < 0.5 {
			wc = w
		}
		if d < 5000 {
			m, cat, wc = truce.MethodSeen, ev.Category, w
			text = fmt.Sprintf("Saw %d %s, assessed as %s", ev.Count, ev.Category, w)
		}
		g.patrolReport(id, ev, pi, m, cat, wc, text)
		n++
	}
	// The party hit complains, hours later; sometimes inflating the count.
	if n < 4 && g.r.Float64() < 0.2 {
		vic := g.a.Parties[1-g.partyIndex(ev.Party)].ID
		count := ev.Count
		if g.r.Float64() < 0.3 {
			count *= 3 + g.r.IntN(5)
		}
		g.complaint(id, vic, ev.Party, ev.Point, ev.Time, w, count)
		n++
	}
	if n == 0 { // the acoustic network as a whole locates it, coarsely
		if ss := g.nearestSensors(ev.Point, false, math.Inf(1)); len(ss) > 0 {
			g.acoustic(id, ev, ss[0], g.uniform(300, 800))
		}
	}
}

func (g *gen) acoustic(id int, ev *planned, si int, cep float64) {
	o := truce.Observation{
		Method: truce.MethodAcoustic, Category: truce.CategoryExplosion, Count: ev.Count,
		Time: g.jitter(ev.Time, 2*time.Second), TimeUncertainty: 5 * time.Second,
		Location:    &truce.Location{Point: g.scatter(ev.Point, cep), CEP: math.Round(cep)},
		Reliability: 'B', Credibility: 3, Marking: amber,
	}
	if ev.Origin != nil && g.r.Float64() < 0.6 {
		o.FireBearing = geo.Bearing(ev.Point, *ev.Origin) + g.r.NormFloat64()*8
		o.HasFireBearing = true
	}
	g.emit(id, Coalition, g.sensors[si].id, o, g.delay(5*time.Second, time.Minute))
}

// complaint emits party's complaint about fire by the other party.
func (g *gen) complaint(id int, party, by truce.PartyID, p geo.Point, t time.Time, w truce.WeaponClass, count int) {
	cep := g.uniform(1000, 3000)
	name := agreement.Locate(g.a, p).Sector
	where := "near the line"
	if name != nil {
		where = "in the " + name.Name + " sector"
	}
	o := truce.Observation{
		Method: truce.MethodPartyReport, Category: truce.CategoryImpact, Weapon: w, Count: count,
		Time: t.Truncate(5 * time.Minute), TimeUncertainty: 15 * time.Minute,
		Location:    &truce.Location{Point: g.scatter(p, cep), CEP: math.Round(cep)},
		Reliability: 'D', Credibility: 4, Party: party, Marking: green,
		Text: fmt.Sprintf("%s positions shelled %s: %d rounds of %s from %s positions", party, where, count, w, by),
	}
	g.emit(id, truce.OrgID(party), string(party)+"-hotline", o, g.delay(2*time.Hour, 8*time.Hour))
}

// falseComplaints adds the parties' complaints of fire that did not
// happen: about one every three hours for each party.
func (g *gen) falseComplaints() {
	for p := range g.a.Parties {
		for range g.poisson(float64(g.cfg.Hours) / 3) {
			s := &g.samples[g.usable[g.r.IntN(len(g.usable))]]
			pt := geo.Destination(s.p, s.toward(p), g.uniform(1000, 8000))
			if g.partyAt(pt) != p {
				continue
			}
			t := g.at(g.r.IntN(g.cfg.Hours), g.r.Float64())
			w := []truce.WeaponClass{truce.WeaponMortar, truce.WeaponArtillery100Plus, truce.WeaponMLRS}[g.r.IntN(3)]
			g.complaint(-1, g.a.Parties[p].ID, g.a.Parties[1-p].ID, pt, t, w, 2+g.r.IntN(20))
		}
	}
}

func (g *gen) observeFlare(id int, ev *planned) {
	if pi, d := g.nearestPatrol(ev.Point, ev.Time); pi >= 0 && d <= 10000 && g.r.Float64() < 0.8 {
		g.patrolReport(id, ev, pi, truce.MethodSeen, truce.CategoryIlluminationFlare, "",
			fmt.Sprintf("Saw %d illumination flare(s)", ev.Count))
	}
	if cs := g.nearestSensors(ev.Point, true, 8000); len(cs) > 0 && g.r.Float64() < 0.6 {
		o := truce.Observation{
			Method: truce.MethodCamera, Category: truce.CategoryIlluminationFlare, Count: ev.Count,
			Time: g.jitter(ev.Time, time.Second), TimeUncertainty: 5 * time.Second,
			Location:    &truce.Location{Point: g.scatter(ev.Point, 400), CEP: 400},
			Reliability: 'B', Credibility: 2, Marking: amber,
		}
		g.emit(id, Coalition, g.sensors[cs[0]].id, o, g.delay(20*time.Second, 2*time.Minute))
	}
}

func (g *gen) observeSighting(id int, ev *planned) {
	text := fmt.Sprintf("%d %s", ev.Count, ev.Weapon)
	if len(ev.Violates) > 0 {
		text += " inside the withdrawal zone"
	}
	sat := func(t time.Time) {
		cep := g.uniform(5, 20)
		o := truce.Observation{
			Method: truce.MethodSatellite, Category: truce.CategoryWeaponSighting, Weapon: ev.Weapon, Count: ev.Count,
			Time: t, TimeUncertainty: time.Second,
			Location:    &truce.Location{Point: g.scatter(ev.Point, cep), CEP: math.Round(cep*10) / 10},
			Reliability: 'A', Credibility: 2, Marking: truce.Marking{TLP: truce.TLPAmber, RelTo: []truce.OrgID{Coalition}},
			Text: text + " in satellite imagery",
		}
		g.emit(id, "USA", "sat-eo-1", o, g.delay(2*time.Hour, 6*time.Hour))
	}
	uav := func(t time.Time) {
		nation := uavNations[g.r.IntN(len(uavNations))]
		cep := g.uniform(15, 60)
		o := truce.Observation{
			Method: truce.MethodUAV, Category: truce.CategoryWeaponSighting, Weapon: ev.Weapon, Count: ev.Count,
			Time: g.jitter(t, 10*time.Second), TimeUncertainty: 30 * time.Second,
			Location:    &truce.Location{Point: g.scatter(ev.Point, cep), CEP: math.Round(cep)},
			Reliability: 'B', Credibility: 2, Marking: amber,
			Text: text + " seen from UAV",
		}
		g.emit(id, nation, "uav-"+string(nation), o, g.delay(5*time.Minute, 40*time.Minute))
	}
	if ev.satellite {
		sat(ev.Time)
		if g.r.Float64() < 0.3 {
			uav(ev.Time.Add(time.Duration(10+g.r.IntN(50)) * time.Minute))
		}
		return
	}
	uav(ev.Time)
	if g.r.Float64() < 0.4 {
		uav(ev.Time.Add(time.Duration(5+g.r.IntN(25)) * time.Minute))
	}
}

func (g *gen) observeRestriction(id int, ev *planned) {
	pi, _ := g.nearestPatrol(ev.Point, ev.Time)
	src := "patrol-01"
	if pi >= 0 {
		src = g.patrols[pi].id
	}
	o := truce.Observation{
		Method: truce.MethodSeen, Category: truce.CategoryRestriction, Count: 1,
		Time: ev.Time.Truncate(time.Minute), TimeUncertainty: time.Minute,
		Location:    &truce.Location{Point: g.scatter(ev.Point, 20), CEP: 20},
		Reliability: 'A', Credibility: 1, Marking: amber,
		Text: fmt.Sprintf("Patrol denied passage at a %s checkpoint; turned back after 40 minutes", ev.Party),
	}
	g.emit(id, Coalition, src, o, g.delay(15*time.Minute, time.Hour))
}
