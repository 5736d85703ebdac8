package truce

import (
	"slices"
	"time"

	"github.com/truce-dev/truce/internal/geo"
)

// IncidentStatus is where an incident stands in review.
type IncidentStatus string

// Incident statuses.
const (
	StatusReported    IncidentStatus = "reported"
	StatusUnderReview IncidentStatus = "under_review"
	StatusVerified    IncidentStatus = "verified"
	StatusUnverified  IncidentStatus = "unverified"
	StatusDismissed   IncidentStatus = "dismissed"
)

var incidentStatuses = vocabulary[IncidentStatus]{"incident status", []Term{
	{string(StatusReported), "reported by at least one source other than a party; not yet reviewed"},
	{string(StatusUnderReview), "an analyst is reviewing it"},
	{string(StatusVerified), "the monitoring cell has verified it"},
	{string(StatusUnverified), "claimed only by a party, or not verifiable: it stands on the claim alone"},
	{string(StatusDismissed), "reviewed and found not to have happened as reported"},
}}

// IncidentStatuses lists every status with its meaning.
func IncidentStatuses() []Term { return slices.Clone(incidentStatuses.terms) }

// ParseIncidentStatus returns the status named s.
func ParseIncidentStatus(s string) (IncidentStatus, error) { return incidentStatuses.parse(s) }

// Valid reports whether s is a known status.
func (s IncidentStatus) Valid() bool { return incidentStatuses.valid(s) }

// Likelihood is a confidence expressed in estimative language (after the
// US ICD 203 and UK PHIA yardsticks), as reports state it.
type Likelihood string

// Likelihoods, from the least to the most probable, with the probability
// at which each begins.
const (
	Remote            Likelihood = "remote"
	Unlikely          Likelihood = "unlikely"
	RoughlyEvenChance Likelihood = "roughly even chance"
	Likely            Likelihood = "likely"
	AlmostCertain     Likelihood = "almost certain"
)

var likelihoods = []struct {
	from float64
	term Term
}{
	{0, Term{string(Remote), "below 20 %"}},
	{0.20, Term{string(Unlikely), "20 % to 45 %"}},
	{0.45, Term{string(RoughlyEvenChance), "45 % to 55 %"}},
	{0.55, Term{string(Likely), "55 % to 90 %"}},
	{0.90, Term{string(AlmostCertain), "90 % and above"}},
}

// Likelihoods lists the estimative terms with the probabilities they cover.
func Likelihoods() []Term {
	ts := make([]Term, len(likelihoods))
	for i, l := range likelihoods {
		ts[i] = l.term
	}
	return ts
}

// LikelihoodOf returns the estimative term for probability p in [0, 1].
func LikelihoodOf(p float64) Likelihood {
	l := Remote
	for _, b := range likelihoods {
		if p >= b.from {
			l = Likelihood(b.term.Name)
		}
	}
	return l
}

// ObservationRef names one observation of an incident: its id (journal
// sequence number), who recorded it, its source and method, and its marking.
type ObservationRef struct {
	ID      uint64
	Org     OrgID
	Source  string
	Method  Method
	Marking Marking
}

// Incident is a set of observations judged to be the same real-world
// event, with what they say together. Its ID is derived from its members,
// so the same observations give the same incident whatever order they came
// in.
type Incident struct {
	ID       string
	Category Category
	Weapon   WeaponClass // "" when no member says
	Count    int         // the largest count a member reports

	// Location is the estimated position of the event, Uncertainty the
	// radius in metres within which it lies with probability one half.
	Location    geo.Point
	Uncertainty float64
	// Start and End bound when it happened.
	Start, End time.Time
	// Origin is where the fire came from, when the members say (outgoing
	// fire located, or a direction of fire); nil otherwise.
	Origin *geo.Point
	// FireBearing is the direction the fire came from, degrees clockwise
	// from true north, when HasFireBearing.
	FireBearing    float64
	HasFireBearing bool

	// Confidence is the probability that the event happened as described,
	// Likelihood the same in words. Sources counts the independent
	// sources behind it (organisations and sources, not reports).
	Confidence float64
	Likelihood Likelihood
	Sources    int

	// Claimants are the parties whose own reports are among the members.
	Claimants []PartyID
	// Party is the party the incident is attributed to, "" when
	// undetermined (set by assessment).
	Party  PartyID
	Status IncidentStatus

	Observations []ObservationRef // in id order
}

// Rule names a rule of the agreement an incident can break.
type Rule string

// Rules of assessment.
const (
	RuleCeasefire         Rule = "ceasefire"
	RuleWithdrawal        Rule = "withdrawal"
	RuleBuffer            Rule = "buffer"
	RuleDisengagement     Rule = "disengagement"
	RuleAirspace          Rule = "airspace"
	RuleMaritime          Rule = "maritime"
	RuleProtectedSite     Rule = "protected_site"
	RuleSilence           Rule = "window_of_silence"
	RuleFreedomOfMovement Rule = "freedom_of_movement"
)

var rules = vocabulary[Rule]{"rule", []Term{
	{string(RuleCeasefire), "any fire (explosion, impact, outgoing fire, projectile, burst, shot) breaks the ceasefire"},
	{string(RuleWithdrawal), "a weapon of a withdrawn class seen inside its withdrawal zone on a party's own side"},
	{string(RuleBuffer), "military presence inside the buffer zone"},
	{string(RuleDisengagement), "military presence inside a disengagement area"},
	{string(RuleAirspace), "a military aircraft or UAV across the line or inside a no-fly zone"},
	{string(RuleMaritime), "a military vessel inside a closed maritime zone"},
	{string(RuleProtectedSite), "an impact or explosion at a protected site"},
	{string(RuleSilence), "fire inside an acknowledged window of silence"},
	{string(RuleFreedomOfMovement), "the monitors' freedom of movement restricted"},
}}

// Rules lists every rule with its meaning.
func Rules() []Term { return slices.Clone(rules.terms) }

// Valid reports whether r is a known rule.
func (r Rule) Valid() bool { return rules.valid(r) }

// Violation is an incident judged against one rule.
type Violation struct {
	ID       string // the incident's id, the rule and the zone, joined by "/"
	Incident string
	Rule     Rule
	Zone     string // the zone's id, "" when the rule has none
	Sector   string // "" outside every sector
	// Party is the party held responsible, "" when undetermined.
	Party    PartyID
	Severity Severity
	Time     time.Time // when the incident began
	Location geo.Point
	// Explanation says why, in words: the rule, the zone, distances, the
	// weapon class and why this party.
	Explanation string
}

// Level is a sector's alert level.
type Level string

// Alert levels, from calm to critical.
const (
	LevelCalm     Level = "CALM"
	LevelTense    Level = "TENSE"
	LevelSerious  Level = "SERIOUS"
	LevelCritical Level = "CRITICAL"
)

// Levels lists the alert levels from calm to critical.
func Levels() []Level { return []Level{LevelCalm, LevelTense, LevelSerious, LevelCritical} }

// Rank orders levels: 0 for CALM up to 3 for CRITICAL, -1 when unknown.
func (l Level) Rank() int { return slices.Index(Levels(), l) }

// SectorLevel is a sector's alert level and the scores behind it: the
// severity-weighted sum of its violations in each of the agreement's
// escalation windows, in the windows' order.
type SectorLevel struct {
	Sector string
	Level  Level
	Since  time.Time
	Scores []float64
}

// SilenceWindow is a local ceasefire for repair work: no fire within
// Radius metres of Center during Period. It binds (Acknowledged) once
// every party of the agreement has acknowledged it.
type SilenceWindow struct {
	ID      string
	Name    string
	Purpose string // what the work is, e.g. "repair of the water main at Vodiane"
	Center  geo.Point
	Radius  float64
	Period  TimeRange
	// RequestedBy and Requested say who asked for the window and when;
	// empty and zero for windows agreed outside truce.
	RequestedBy OrgID
	Requested   time.Time
	// Acks are the parties that have acknowledged it, sorted, without
	// repeats.
	Acks []PartyID
	// Acknowledged: every party has acknowledged it (see Acknowledge), or
	// it was agreed with them outside truce. Only an acknowledged window
	// binds.
	Acknowledged bool
}

// Acknowledge records that party p acknowledged w, and makes w
// Acknowledged once every one of parties has. It reports whether p had
// not acknowledged w before. Acks is copied, not changed in place.
func (w *SilenceWindow) Acknowledge(p PartyID, parties []PartyID) bool {
	i, found := slices.BinarySearch(w.Acks, p)
	if found {
		return false
	}
	w.Acks = slices.Insert(slices.Clone(w.Acks), i, p)
	if len(w.Pending(parties)) == 0 {
		w.Acknowledged = true
	}
	return true
}

// Pending returns the parties of parties that have not acknowledged w, in
// their order.
func (w *SilenceWindow) Pending(parties []PartyID) []PartyID {
	var out []PartyID
	for _, p := range parties {
		if _, ok := slices.BinarySearch(w.Acks, p); !ok {
			out = append(out, p)
		}
	}
	return out
}

// Ended reports whether w's period is over at now.
func (w *SilenceWindow) Ended(now time.Time) bool {
	return !w.Period.Until.IsZero() && !now.Before(w.Period.Until)
}

// LevelChange is a sector's alert level changing at a moment, with the
// window scores behind it.
type LevelChange struct {
	Sector   string
	From, To Level
	At       time.Time
	Scores   []float64
}

// Trigger is the renewed-aggression trigger firing (enough sectors at
// CRITICAL) or clearing.
type Trigger struct {
	Fired    bool
	At       time.Time
	Critical []string // the sectors at CRITICAL, sorted
}
