// Package fuse turns observations into incidents: it decides which reports
// describe the same real-world event and what they say together.
//
// It owns the fusion rules (below), the incremental Engine that applies
// them to the stream of observations over a sliding window, and Fuse, the
// batch reference that applies them to a set at once. It imports only
// internal/geo and internal/truce; it reads no clock and draws no random
// numbers. An Engine is not safe for concurrent use: one goroutine feeds it.
//
// # Compatibility
//
// Two observations are compatible (an edge of the graph) when all of:
//
//   - Time: |t1 − t2| ≤ u1 + u2 + gate, where u is each report's time
//     uncertainty and gate the Config.TimeGate of the looser method of the
//     pair (defaults: acoustic, camera, radar 10 s; heard, seen 3 min; uav,
//     satellite 10 min; party_report, osint 2 h; other methods 10 min).
//     That is, the intervals [t − u − gate/2, t + u + gate/2] overlap: the
//     gate is the whole separation allowed, so two acoustic detections 20 s
//     apart are two events. Sightings of what stays where it is
//     (weapon_sighting, military_presence) take at least Config.StateGate
//     (default 2 h): the same battery seen by two UAV passes half an hour
//     apart is one sighting.
//   - Category: the same, or a pair of the table: the fire events
//     explosion, impact, outgoing_fire, projectile and muzzle_flash with one
//     another; burst with shot; weapon_sighting with military_presence;
//     damage with impact and explosion; casualty with every fire event and
//     with burst and shot. Aircraft, uav, vessel, mine, restriction and
//     illumination_flare go only with themselves.
//   - Weapon class: not both set and different.
//   - Place: two points when their CEP circles overlap within
//     k·(cep1 + cep2), k = 2 (CEPs are 50 % radii; 2 CEP holds 94 %); a
//     point and an observer report when the disc of radius k·cep meets the
//     observer's wedge (bearing ± 3σ of the method's Config.BearingError,
//     defaults: radar 0.5°, acoustic, camera, satellite 1°, uav 2°, seen 3°,
//     heard 5°, party_report, osint and others 10°; half-angle at most 80°;
//     distance band [DistanceMin, DistanceMax]); two observer reports when
//     their wedges intersect (convex polygons, the outer arc circumscribed,
//     tested in a gnomonic projection centred between the observers).
//
// A contradiction (an impossible time, place, category or weapon) is
// simply no edge.
//
// # Strong and weak reports
//
// A report is weak when its method is party_report or osint, or its Party
// is set; every other report is strong. Weak reports are weakly located
// (kilometres of CEP) under long gates (2 h): at any realistic density,
// letting them link reports would chain unrelated events into incidents
// covering the front. So:
//
//   - Strong reports form incidents through strong–strong edges only: the
//     incidents' cores are the connected components of the graph of strong
//     reports. A strong report compatible with two cores merges them.
//   - A weak report joins the incident of a strong report it is
//     compatible with; when it is compatible with several incidents, it
//     joins exactly one: the one of least rank, the rank of an incident
//     being the least (key, journal id) of its strong members (key: the
//     first 8 bytes of SHA-256(Org NUL Source NUL SourceID)). It never
//     links two incidents.
//   - Two weak reports never link each other: a weak report compatible
//     with no strong report is an incident of its own. A UA claim and an
//     RU claim about the same place are two claims, two incidents, until
//     a monitor's report gives them an event to attach to.
//
// This is a pure function of the set of reports, whatever their order.
// Incrementally, a strong report that arrives late can change where a
// weak report belongs: a weak report alone joins the incident (its own id
// is reported gone), and a weak report attached elsewhere moves when the
// incident it is now compatible with ranks better (Add returns both
// incidents; the one it left has lost a member). To find those, each
// incident keeps the list of the weak reports compatible with it but
// attached to an incident of better rank.
// # What an incident says
//
//   - Location: the least-squares position of its reports on the sphere.
//     A point report of CEP c counts as an isotropic normal error of
//     σ = c/1.1774 (CEP at least 5 m). An observer report adds two great-
//     circle constraints: its bearing line, with a cross-track σ of the
//     middle of the band times the bearing error (at least 5 m), and the
//     line across the bearing at the middle of the band, with σ half the
//     band (at least 50 m). The normal equations are summed over members
//     and solved by Gauss–Newton steps in the tangent plane; the
//     uncertainty is the CEP (0.5887 (σ1 + σ2), after Grubbs) of the
//     solution's covariance, multiplied by the reduced χ² of the fit when
//     that exceeds one: bearings that agree shrink it, bearings (or
//     points) that diverge grow it. A single observer report is located at
//     the middle of its wedge. Outgoing fire and muzzle flashes locate the
//     Origin, and the Location only when nothing else does.
//   - Category: the first of impact, outgoing_fire, muzzle_flash,
//     projectile, explosion, burst, shot, casualty, damage,
//     weapon_sighting, military_presence, aircraft, uav, vessel, mine,
//     restriction, illumination_flare among the members' (unknown
//     categories after, by name).
//   - Weapon: the class most members report (ties to the first by name);
//     Count: the largest; Start, End: the earliest and latest member time;
//     FireBearing: the circular mean of members' fire bearings.
//   - Confidence: each independent source contributes a probability
//     p = r × c from the best Admiralty grade it gave any member, with
//     r = A .95, B .85, C .70, D .50, E .30, F .50 and c = 1 1.00, 2 .85,
//     3 .65, 4 .40, 5 .15, 6 .55 (so an ungraded F6 report gives 0.275,
//     a B2 patrol 0.72). A non-party source is a distinct (Org, Source)
//     pair: two reports of one patrol count once, two organisations twice.
//     A party report (Method party_report, or Party set) counts for its
//     claimant (the Party, or the recording organisation when unnamed),
//     once per claimant however many of its offices report, with 0.3 × p.
//     Confidence = 1 − Π(1 − p); Likelihood = truce.LikelihoodOf(it);
//     Sources = independent sources plus claimants; Claimants = the named
//     parties; Status = unverified when every member is a party report,
//     reported otherwise; Party is left to assessment.
//   - ID: "inc-" and the first 16 hex digits (64 bits) of SHA-256(Org NUL
//     Source NUL SourceID) of the strong member for which that hash is
//     least (weak members do not name an incident), or of the weak report
//     itself when it is alone. An incident whose id changes because such a
//     member joins it is reported gone under its old id.
//
// # Determinism
//
// An incident is a pure function of its member set, bit for bit: sums
// (normal equations, fire bearings, log(1 − p)) are accumulated in fixed
// point in 128-bit integers, so they do not depend on the order of their
// terms; extremes break ties by value; nothing depends on map iteration or
// slot numbers. The Engine and Fuse give identical incidents for the same
// inputs in any order (a property test checks it), as long as no
// observation has left the window (see Expire and Config.Horizon).
//
// # The window
//
// The Engine keeps recent observations in a compact form (136 bytes
// each, strings interned), indexed by a set of space-time grids,
// and maintains the summary of incidents of 8 members or more
// incrementally (smaller ones are summarised from their members when
// needed). Expire, or Add itself once Config.Horizon is passed, drops
// every incident whose latest member is older than the cutoff: such
// incidents are final. A report older than the cutoff that arrives later
// is returned as an incident of its own and not kept. Incidents and slices
// returned (Observations, Claimants, Marking.RelTo) share memory with the
// Engine and must be treated as read-only; the Engine never modifies what
// it has handed out.
package fuse
