package sim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/truce-dev/truce/internal/agreement"
	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// Config says what to simulate.
type Config struct {
	Seed  uint64
	Start time.Time // the day's start (UTC); zero means the agreement's effective date, at midnight
	Hours int       // default 24
	// Surge lists the sectors that surge in the evening; nil means the
	// first two sectors of the agreement.
	Surge []string
}

// Scenario is a simulated period: the reports sent, what really happened
// and the windows of silence in force.
type Scenario struct {
	Observations []Report              // in the order they are sent (by SentAt)
	Truth        []Event               // what really happened, in time order
	Windows      []truce.SilenceWindow // acknowledged windows of silence
}

// Report is one observation as a source sends it.
type Report struct {
	Observation truce.Observation // canonical
	// Org is who sends it: "coalition" for monitors and sensors, the
	// party for party claims, a nation for UAV and satellite imagery.
	Org    truce.OrgID
	Event  int       // index into Scenario.Truth; -1 for a false report
	SentAt time.Time // when it is sent, never before Observation.Time
}

// Event is something that really happened.
type Event struct {
	ID       int
	Time     time.Time
	Point    geo.Point
	Category truce.Category
	Weapon   truce.WeaponClass
	Count    int           // rounds fired, or weapons seen
	Party    truce.PartyID // who did it ("" for none)
	Origin   *geo.Point    // where fire came from, for fire
	Sector   string        // the sector of Point, "" outside every sector
	// Violates lists the rules the event breaks by construction, in the
	// order of truce.Rules.
	Violates []truce.Rule
}

// Coalition is the organisation of the monitors and fixed sensors.
const Coalition truce.OrgID = "coalition"

// Generate simulates cfg.Hours of monitoring over agreement a. The same
// agreement and Config always give the same Scenario.
func Generate(a *truce.Agreement, cfg Config) (*Scenario, error) {
	if a == nil || a.Line == nil {
		return nil, errors.New("sim: the agreement has no line of contact")
	}
	if len(a.Parties) != 2 {
		return nil, fmt.Errorf("sim: the agreement has %d parties, want 2", len(a.Parties))
	}
	if cfg.Hours == 0 {
		cfg.Hours = 24
	}
	if cfg.Hours < 0 || cfg.Hours > 24*31 {
		return nil, fmt.Errorf("sim: %d hours is outside [1, 744]", cfg.Hours)
	}
	if cfg.Start.IsZero() {
		cfg.Start = a.Effective.From
		if cfg.Start.IsZero() {
			cfg.Start = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		}
		cfg.Start = cfg.Start.UTC().Truncate(24 * time.Hour)
	}
	cfg.Start = cfg.Start.UTC().Round(truce.TimeUnit)
	if cfg.Surge == nil {
		for i := 0; i < 2 && i < len(a.Sectors); i++ {
			cfg.Surge = append(cfg.Surge, a.Sectors[i].ID)
		}
	}
	for _, s := range cfg.Surge {
		if !slices.ContainsFunc(a.Sectors, func(x truce.Sector) bool { return x.ID == s }) {
			return nil, fmt.Errorf("sim: surge sector %q is not in the agreement", s)
		}
	}
	g := &gen{
		a:   a,
		cfg: cfg,
		r:   rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x7472756365)),
		end: cfg.Start.Add(time.Duration(cfg.Hours) * time.Hour),
		seq: map[string]int{},
	}
	if err := g.setup(); err != nil {
		return nil, err
	}
	g.plan()
	return g.run(), nil
}

// sample is a point on the line with the line's direction there and the
// parties on either side.
type sample struct {
	p           geo.Point
	bearing     float64 // direction of the line at p
	sector      string
	left, right int // party index at bearing-90 (left) and bearing+90 (right); -1 when none
}

// sensor is a fixed acoustic sensor or camera.
type sensor struct {
	id     string
	p      geo.Point
	camera bool
}

// patrol is a monitoring team: where it is at each hour.
type patrol struct {
	id  string
	pos []geo.Point // by hour from the start
}

// kind is how an event is observed.
type kind int

const (
	kFire kind = iota
	kFlare
	kSighting
	kRestriction
)

// planned is an event before observation.
type planned struct {
	Event
	kind      kind
	satellite bool // a sighting in satellite imagery rather than from a UAV
}

type gen struct {
	a   *truce.Agreement
	cfg Config
	r   *rand.Rand
	end time.Time

	samples  []sample
	usable   []int            // samples with a party on each side
	bySector map[string][]int // usable samples by sector
	sensors  []sensor
	patrols  []patrol
	sites    []*truce.Zone // protected sites
	window   *truce.SilenceWindow

	events  []planned
	truth   []Event
	reports []Report
	seq     map[string]int
}

const sampleStep = 2000.0 // metres between line samples

func (g *gen) setup() error {
	g.bySector = map[string][]int{}
	for _, part := range g.a.Line.Parts() {
		for i := 0; i+1 < len(part); i++ {
			p, q := part[i], part[i+1]
			b, d := geo.Bearing(p, q), geo.Distance(p, q)
			for x := 0.0; x < d; x += sampleStep {
				s := sample{p: geo.Destination(p, b, x), bearing: b}
				s.bearing = geo.Bearing(s.p, q)
				s.left = g.partyAt(geo.Destination(s.p, s.bearing-90, 3000))
				s.right = g.partyAt(geo.Destination(s.p, s.bearing+90, 3000))
				if sec := agreement.Locate(g.a, s.p).Sector; sec != nil {
					s.sector = sec.ID
				}
				g.samples = append(g.samples, s)
				if s.left >= 0 && s.right >= 0 && s.left != s.right {
					n := len(g.samples) - 1
					g.usable = append(g.usable, n)
					g.bySector[s.sector] = append(g.bySector[s.sector], n)
				}
			}
		}
	}
	if len(g.usable) < 10 {
		return errors.New("sim: the line has too few stretches with a party on each side")
	}
	for _, s := range g.cfg.Surge {
		if len(g.bySector[s]) == 0 {
			return fmt.Errorf("sim: surge sector %q has no stretch of the line between the parties", s)
		}
	}
	for i := range g.a.Zones {
		if z := &g.a.Zones[i]; z.Kind == truce.ZoneProtectedSite && z.Site != nil {
			g.sites = append(g.sites, z)
		}
	}

	// Fixed sensors: an acoustic sensor every ~20 km and a camera every
	// ~30 km of the line, alternately on either side, a few km back.
	for k, i := range g.usable {
		s := g.samples[i]
		side := 90.0
		if k%2 == 1 {
			side = -90
		}
		if k%5 == 0 {
			p := geo.Destination(s.p, s.bearing+side, 3000+2000*g.r.Float64())
			g.sensors = append(g.sensors, sensor{id: fmt.Sprintf("acoustic-%03d", len(g.sensors)+1), p: p})
		}
		if k%8 == 3 {
			p := geo.Destination(s.p, s.bearing-side, 2000+1500*g.r.Float64())
			g.sensors = append(g.sensors, sensor{id: fmt.Sprintf("camera-%03d", len(g.sensors)+1), p: p, camera: true})
		}
	}

	// Patrols: four per sector (and four for stretches outside sectors),
	// from a base 6-12 km back, moving towards the line by day.
	for _, sec := range append(g.sectorIDs(), "") {
		idx := g.bySector[sec]
		if len(idx) == 0 {
			continue
		}
		for k := range patrolsPerSector {
			s := g.samples[idx[(2*k+1)*len(idx)/(2*patrolsPerSector)]]
			side := s.bearing + 90
			if k%2 == 1 {
				side = s.bearing - 90
			}
			base := geo.Destination(s.p, side, 6000+6000*g.r.Float64())
			pt := patrol{id: fmt.Sprintf("patrol-%02d", len(g.patrols)+1)}
			for h := range g.cfg.Hours {
				hod := g.cfg.Start.Add(time.Duration(h) * time.Hour).Hour()
				p := base
				if hod >= 6 && hod < 16 {
					p = geo.Destination(s.p, side+40*(g.r.Float64()-0.5), 2500+5000*g.r.Float64())
				}
				pt.pos = append(pt.pos, p)
			}
			g.patrols = append(g.patrols, pt)
		}
	}
	return nil
}

const patrolsPerSector = 4

func (g *gen) sectorIDs() []string {
	ids := make([]string, len(g.a.Sectors))
	for i, s := range g.a.Sectors {
		ids[i] = s.ID
	}
	return ids
}

func (g *gen) partyAt(p geo.Point) int {
	loc := agreement.Locate(g.a, p)
	if loc.Party == nil {
		return -1
	}
	return g.partyIndex(loc.Party.ID)
}

func (g *gen) partyIndex(id truce.PartyID) int {
	return slices.IndexFunc(g.a.Parties, func(p truce.Party) bool { return p.ID == id })
}

// toward returns the bearing from sample s perpendicular to the line
// towards party index p's side.
func (s *sample) toward(p int) float64 {
	if s.right == p {
		return s.bearing + 90
	}
	return s.bearing - 90
}

// at returns the time at the given fraction of an hour after the start.
func (g *gen) at(h int, frac float64) time.Time {
	return g.cfg.Start.Add(time.Duration((float64(h) + frac) * float64(time.Hour))).Round(time.Second)
}

func (g *gen) poisson(l float64) int {
	n, p, lim := 0, 1.0, math.Exp(-l)
	for {
		p *= g.r.Float64()
		if p <= lim {
			return n
		}
		n++
	}
}

func (g *gen) uniform(lo, hi float64) float64 { return lo + (hi-lo)*g.r.Float64() }

type weighted struct {
	w truce.WeaponClass
	p float64
}

func (g *gen) pick(ws []weighted) truce.WeaponClass {
	x := g.r.Float64()
	for _, w := range ws {
		if x -= w.p; x < 0 {
			return w.w
		}
	}
	return ws[len(ws)-1].w
}

var (
	quietMix = []weighted{{truce.WeaponSmallArms, .25}, {truce.WeaponHeavyMachineGun, .15}, {truce.WeaponGrenadeLauncher, .15},
		{truce.WeaponMortar, .35}, {truce.WeaponArtilleryUnder100, .1}}
	surgeMix = []weighted{{truce.WeaponGrenadeLauncher, .1}, {truce.WeaponMortar, .3}, {truce.WeaponArtilleryUnder100, .1},
		{truce.WeaponArtillery100Plus, .35}, {truce.WeaponMLRS, .15}}
)

// fireRange is the span of distances, metres, between firing position and
// impact for each weapon class used.
var fireRange = map[truce.WeaponClass][2]float64{
	truce.WeaponSmallArms:         {300, 1500},
	truce.WeaponHeavyMachineGun:   {500, 2000},
	truce.WeaponGrenadeLauncher:   {400, 1700},
	truce.WeaponMortar:            {1500, 7000},
	truce.WeaponArtilleryUnder100: {3000, 12000},
	truce.WeaponArtillery100Plus:  {6000, 25000},
	truce.WeaponMLRS:              {8000, 40000},
}

// hearRange is how far, metres, monitors and acoustic sensors detect fire
// of each class.
var hearRange = map[truce.WeaponClass]float64{
	truce.WeaponSmallArms:         3000,
	truce.WeaponHeavyMachineGun:   4000,
	truce.WeaponGrenadeLauncher:   5000,
	truce.WeaponMortar:            10000,
	truce.WeaponArtilleryUnder100: 12000,
	truce.WeaponArtillery100Plus:  15000,
	truce.WeaponMLRS:              18000,
}

// fireRate is the expected number of fire events per hour along the whole
// line outside the surge, by hour of day: a quiet morning, a moderate
// afternoon, a livelier night.
func fireRate(hod int) float64 {
	switch {
	case hod < 6:
		return 2
	case hod < 12:
		return 0.6
	case hod < 18:
		return 1.2
	case hod < 22:
		return 1.5
	}
	return 2
}

const surgeRate = 25 // fire events per hour in each surge sector, 18:00-22:00

func (g *gen) plan() {
	// Fire outside the surge falls on sectors evenly, whatever their
	// length: one pool of line stretches per sector (and one for the line
	// outside every sector).
	var all, calm [][]int
	for _, sec := range append(g.sectorIDs(), "") {
		if idx := g.bySector[sec]; len(idx) > 0 {
			all = append(all, idx)
			if !slices.Contains(g.cfg.Surge, sec) {
				calm = append(calm, idx)
			}
		}
	}
	if len(calm) == 0 {
		calm = all
	}
	for h := range g.cfg.Hours {
		hod := g.cfg.Start.Add(time.Duration(h) * time.Hour).Hour()
		surge := hod >= 18 && hod < 22
		pools := all
		if surge {
			pools = calm
		}
		for range g.poisson(fireRate(hod)) {
			g.fire(g.at(h, g.r.Float64()), pools[g.r.IntN(len(pools))], quietMix)
		}
		if surge {
			for _, sec := range g.cfg.Surge {
				for range g.poisson(surgeRate) {
					g.fire(g.at(h, g.r.Float64()), g.bySector[sec], surgeMix)
				}
			}
		}
		// Illumination flares by night.
		if hod < 5 || hod >= 17 {
			for range g.poisson(8) {
				g.flare(g.at(h, g.r.Float64()))
			}
		}
		// UAV flights by day see weapons where the agreement allows them.
		if hod >= 6 && hod < 16 {
			for range g.poisson(100) {
				g.sighting(g.at(h, g.r.Float64()), g.usable, false, false, g.r.IntN(2))
			}
		}
		// Satellite passes image a stretch of the line at once.
		for _, pass := range []float64{8.2, 10.7, 15.3} {
			if int(pass) == hod {
				t := g.at(h, pass-float64(int(pass)))
				for range 70 + g.r.IntN(20) {
					g.sighting(t, g.usable, false, true, g.r.IntN(2))
				}
			}
		}
	}
	// Weapons inside withdrawal zones: five on each party's side, two
	// hours apart and in turn along the sectors, so that they alone do not
	// raise a sector's level.
	for k := range 5 * len(g.a.Parties) {
		h := g.dayHour(1 + 2*k)
		g.sighting(g.at(h, 0.5*g.r.Float64()), all[k%len(all)], true, g.r.IntN(3) == 0, k%len(g.a.Parties))
	}
	g.silence()
	g.restriction()
	slices.SortStableFunc(g.events, func(x, y planned) int { return x.Time.Compare(y.Time) })
}

// dayHour maps an hour of day to an hour from the start, within the
// simulated period.
func (g *gen) dayHour(hod int) int {
	h := (hod - g.cfg.Start.Hour() + 24) % 24
	if h >= g.cfg.Hours {
		h = g.r.IntN(g.cfg.Hours)
	}
	return h
}

// clear reports whether p is away from every protected site (and so from
// the window of silence).
func (g *gen) clear(p geo.Point) bool {
	for _, z := range g.sites {
		if geo.Distance(p, z.Site.Cap.Center) < z.Site.Cap.Radius+500 {
			return false
		}
	}
	return true
}

// fire plans one fire event across the line at a stretch from pool.
func (g *gen) fire(t time.Time, pool []int, mix []weighted) {
	w := g.pick(mix)
	rg := fireRange[w]
	for range 50 {
		k := g.r.IntN(len(pool))
		s := &g.samples[pool[k]]
		att := s.left
		if g.r.IntN(2) == 0 {
			att = s.right
		}
		vic := 1 - att
		d := g.uniform(rg[0], rg[1])
		f := g.uniform(0.3, 0.8)
		origin := geo.Destination(s.p, s.toward(att)+g.r.NormFloat64()*15, f*d)
		impact := geo.Destination(s.p, s.toward(vic)+g.r.NormFloat64()*15, (1-f)*d)
		li := agreement.Locate(g.a, impact)
		sec := ""
		if li.Sector != nil {
			sec = li.Sector.ID
		}
		if sec != s.sector || li.Party == nil || g.partyIndex(li.Party.ID) != vic || li.Line.Distance < 150 ||
			g.partyAt(origin) != att || geo.Distance(origin, impact) > rg[1] || !g.clear(impact) {
			continue
		}
		ev := planned{kind: kFire, Event: Event{
			Time: t, Point: impact, Category: fireCategory(w), Weapon: w,
			Count: g.rounds(w), Party: g.a.Parties[att].ID, Origin: &origin,
			Violates: []truce.Rule{truce.RuleCeasefire}, Sector: sec,
		}}
		g.events = append(g.events, ev)
		return
	}
}

func fireCategory(w truce.WeaponClass) truce.Category {
	switch w {
	case truce.WeaponSmallArms, truce.WeaponHeavyMachineGun:
		return truce.CategoryBurst
	case truce.WeaponGrenadeLauncher:
		return truce.CategoryExplosion
	}
	return truce.CategoryImpact
}

func (g *gen) rounds(w truce.WeaponClass) int {
	switch w {
	case truce.WeaponMLRS:
		return 10 + g.r.IntN(31)
	case truce.WeaponArtillery100Plus, truce.WeaponArtilleryUnder100:
		return 1 + g.r.IntN(8)
	case truce.WeaponMortar:
		return 1 + g.r.IntN(6)
	}
	return 1 + g.r.IntN(4)
}

// flare plans an illumination flare near the line.
func (g *gen) flare(t time.Time) {
	s := &g.samples[g.usable[g.r.IntN(len(g.usable))]]
	p := s.left
	if g.r.IntN(2) == 0 {
		p = s.right
	}
	pt := geo.Destination(s.p, s.toward(p)+g.r.NormFloat64()*20, g.uniform(300, 3000))
	loc := agreement.Locate(g.a, pt)
	if loc.Party == nil || g.partyIndex(loc.Party.ID) != p {
		return
	}
	ev := planned{kind: kFlare, Event: Event{Time: t, Point: pt, Category: truce.CategoryIlluminationFlare,
		Count: 1 + g.r.IntN(3), Party: loc.Party.ID}}
	if loc.Sector != nil {
		ev.Sector = loc.Sector.ID
	}
	g.events = append(g.events, ev)
}

var sightingClasses = []truce.WeaponClass{
	truce.WeaponArtillery100Plus, truce.WeaponMLRS, truce.WeaponTank, truce.WeaponHeavyMLRS, truce.WeaponMortar,
	truce.WeaponArmouredVehicle, truce.WeaponAirDefence,
}

// withdrawal returns the width, metres, of the withdrawal band for class w
// on party p's side, 0 when none.
func (g *gen) withdrawal(w truce.WeaponClass, p truce.PartyID) float64 {
	best := 0.0
	for i := range g.a.Zones {
		z := &g.a.Zones[i]
		if z.Kind == truce.ZoneWithdrawal && z.IsBand() && slices.Contains(z.Weapons, w) {
			best = max(best, z.Distance[p])
		}
	}
	return best
}

// violations returns the rules a weapon of class w seen at loc breaks.
func violations(loc agreement.Location, w truce.WeaponClass) []truce.Rule {
	var out []truce.Rule
	for _, z := range loc.Zones {
		switch {
		case z.Kind == truce.ZoneWithdrawal && slices.Contains(z.Weapons, w):
			out = append(out, truce.RuleWithdrawal)
		case z.Kind == truce.ZoneBuffer:
			out = append(out, truce.RuleBuffer)
		case z.Kind == truce.ZoneDisengagement:
			out = append(out, truce.RuleDisengagement)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// sighting plans weapons seen on party p's side: inside a withdrawal zone
// of their class when violating, else where the agreement allows them.
func (g *gen) sighting(t time.Time, pool []int, violating, satellite bool, p int) {
	party := g.a.Parties[p].ID
	for range 100 {
		w := sightingClasses[g.r.IntN(len(sightingClasses))]
		wd := g.withdrawal(w, party)
		var lo, hi float64
		switch {
		case violating && wd == 0:
			continue
		case violating:
			lo, hi = 4000, wd-1000
		default:
			lo, hi = max(wd, 3000)+2000, max(wd, 3000)+30000
		}
		s := &g.samples[pool[g.r.IntN(len(pool))]]
		pt := geo.Destination(s.p, s.toward(p)+g.r.NormFloat64()*20, g.uniform(lo, hi))
		loc := agreement.Locate(g.a, pt)
		if loc.Party == nil || loc.Party.ID != party || loc.Line.Distance < lo-500 || loc.Line.Distance > hi || !g.clear(pt) {
			continue
		}
		v := violations(loc, w)
		if violating != slices.Equal(v, []truce.Rule{truce.RuleWithdrawal}) {
			continue
		}
		ev := planned{kind: kSighting, satellite: satellite, Event: Event{
			Time: t, Point: pt, Category: truce.CategoryWeaponSighting, Weapon: w,
			Count: 1 + g.r.IntN(4), Party: party, Violates: v,
		}}
		if loc.Sector != nil {
			ev.Sector = loc.Sector.ID
		}
		g.events = append(g.events, ev)
		return
	}
}

// silence declares a window of silence 10:00-14:00 for repairs at a water
// station (preferring one in a surge sector) and breaks it once with fire
// from the other side.
func (g *gen) silence() {
	var site *truce.Zone
	for _, z := range g.sites {
		if z.Site.Category != "water_station" {
			continue
		}
		loc := agreement.Locate(g.a, z.Site.Cap.Center)
		if site == nil || loc.Sector != nil && slices.Contains(g.cfg.Surge, loc.Sector.ID) {
			site = z
		}
	}
	if site == nil {
		return
	}
	day := g.cfg.Start.Truncate(24 * time.Hour)
	if day.Before(g.cfg.Start) {
		day = day.Add(24 * time.Hour)
	}
	from := day.Add(10 * time.Hour)
	c := site.Site.Cap
	g.window = &truce.SilenceWindow{
		ID: "wos-" + site.ID, Name: "Repair of " + site.Name,
		Center: c.Center, Radius: c.Radius,
		Period:       truce.TimeRange{From: from, Until: from.Add(4 * time.Hour)},
		Acknowledged: true,
	}
	t := from.Add(90*time.Minute + time.Duration(g.r.IntN(1800))*time.Second)
	if !t.Before(g.end) {
		return
	}
	cl := agreement.Locate(g.a, c.Center)
	owner := 0
	if cl.Party != nil {
		owner = g.partyIndex(cl.Party.ID)
	}
	att := 1 - owner
	away := geo.Bearing(c.Center, cl.Line.Point)
	for range 200 {
		impact := geo.Destination(c.Center, 360*g.r.Float64(), c.Radius*0.5*g.r.Float64())
		origin := geo.Destination(cl.Line.Point, away+g.r.NormFloat64()*20, g.uniform(1500, 6000))
		if g.partyAt(origin) != att {
			continue
		}
		w := truce.WeaponMortar
		if geo.Distance(origin, impact) > fireRange[w][1] {
			w = truce.WeaponArtillery100Plus
			if geo.Distance(origin, impact) > fireRange[w][1] {
				continue
			}
		}
		ev := planned{kind: kFire, Event: Event{
			Time: t, Point: impact, Category: truce.CategoryImpact, Weapon: w, Count: 2 + g.r.IntN(3),
			Party: g.a.Parties[att].ID, Origin: &origin,
			Violates: []truce.Rule{truce.RuleCeasefire, truce.RuleProtectedSite, truce.RuleSilence},
		}}
		if l := agreement.Locate(g.a, impact); l.Sector != nil {
			ev.Sector = l.Sector.ID
		}
		g.events = append(g.events, ev)
		return
	}
}

// restriction plans a patrol stopped at a checkpoint on one side, late
// morning.
func (g *gen) restriction() {
	p := g.r.IntN(2)
	t := g.at(g.dayHour(11), g.r.Float64())
	for range 100 {
		s := &g.samples[g.usable[g.r.IntN(len(g.usable))]]
		pt := geo.Destination(s.p, s.toward(p), g.uniform(3000, 8000))
		loc := agreement.Locate(g.a, pt)
		if loc.Party == nil || g.partyIndex(loc.Party.ID) != p {
			continue
		}
		ev := planned{kind: kRestriction, Event: Event{
			Time: t, Point: pt, Category: truce.CategoryRestriction, Count: 1,
			Party: loc.Party.ID, Violates: []truce.Rule{truce.RuleFreedomOfMovement},
		}}
		if loc.Sector != nil {
			ev.Sector = loc.Sector.ID
		}
		g.events = append(g.events, ev)
		return
	}
}
