package deconflict

// The same deconfliction queries as bench_test.go, on the same generated
// data, answered by PostgreSQL with PostGIS (issue 7). They run only when
// TRUCE_BENCH_POSTGRES_DSN names a database where the postgis extension
// can be created; scripts/bench-postgis.sh installs PostgreSQL and PostGIS,
// starts a throwaway cluster on loopback and runs them.
//
// Table (one row per volume; id is the volume's index in the generated set,
// which is also its id in the Go Index):
//
//	geom    geometry(Geometry,4326)  the footprint's core: the polygon, the
//	                                 circle's centre (a point) or the
//	                                 corridor's path (a linestring)
//	geog    geography                the same core, for the sphere distance
//	radius  float8                   circle radius / corridor half-width (0
//	                                 for polygons), metres
//	bound   geometry(Polygon,4326)   the latitude/longitude box holding the
//	                                 whole shape, radius included (Vol.Bound)
//	alt     numrange  [MinAlt, MaxAlt]
//	period  tstzrange [From, Until)
//	dom, h_m, v_m, t_m               the domain and its own margins
//
// The predicate is the Go one (Index.near and Shape.Within), term for term:
// the pair keeps the larger of each margin (greatest(a.x_m, b.x_m), as
// Coalition.Margin); the time windows conflict unless one starts at or
// after the other's end plus the margin; the altitude bands unless one's
// bottom is above the other's top plus the margin; and the footprints when
// the geodesic distance between the two cores is at most the sum of the
// radii plus the margin. That last test is ST_DWithin on the cores'
// geographies with use_spheroid = false, i.e. on PostGIS's sphere (radius
// (2a+b)/3 of WGS 84, 6371008.7714 m); geo.EarthRadius is 6371008.8 m, so
// the distance limit is scaled by R_postgis/R_go: both sides then compare
// the same angle. Distance 0 when one core contains the other or they cross
// is the same on both sides (geodesic edges, smaller side inside).
//
// The index-side conditions (&& on bound, period and alt, with the bound
// grown by the largest horizontal margin exactly as Index.near grows a box,
// and the ranges by the largest time and vertical margins) only narrow the
// candidates: every pair the exact terms accept passes them.

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

const pgDSNEnv = "TRUCE_BENCH_POSTGRES_DSN"

// pgConn connects to the benchmark database, or skips.
func pgConn(tb testing.TB) *pgx.Conn {
	dsn := os.Getenv(pgDSNEnv)
	if dsn == "" {
		tb.Skip("PostgreSQL/PostGIS comparison: set " + pgDSNEnv + " (scripts/bench-postgis.sh does)")
	}
	c, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		tb.Fatalf("PostgreSQL at %s=%q: %v", pgDSNEnv, dsn, err)
	}
	return c
}

// pgMaxMargin is the largest margin of each kind in the coalition.
func pgMaxMargin() truce.Margin {
	var m truce.Margin
	for _, x := range coalition.Margins {
		m = truce.Margin{Horizontal: max(m.Horizontal, x.Horizontal), Vertical: max(m.Vertical, x.Vertical), Time: max(m.Time, x.Time)}
	}
	return m
}

// pgSchema creates the extension, the margins table and reach_box, and
// returns the factor R_postgis/R_go that turns a Go distance limit into a
// PostGIS sphere one.
func pgSchema(tb testing.TB, c *pgx.Conn) float64 {
	ctx := context.Background()
	stmts := []string{
		`CREATE EXTENSION IF NOT EXISTS postgis`,
		`DROP TABLE IF EXISTS margins`,
		`CREATE TABLE margins (dom text PRIMARY KEY, h_m float8 NOT NULL, v_m numeric NOT NULL, t_m interval NOT NULL)`,
		// reach_box grows a bound by h metres as Index.near grows a box:
		// in longitude (ST_Expand's dx) h/metresPerDegree divided by the
		// cosine of the box's farthest latitude plus the growth; in
		// latitude (dy) h/metresPerDegree.
		fmt.Sprintf(`CREATE OR REPLACE FUNCTION reach_box(b geometry, h float8) RETURNS geometry
			LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
			SELECT ST_Expand(b,
				CASE WHEN greatest(abs(ST_YMin(b)), abs(ST_YMax(b))) + h / %[1]s < 89
				THEN (h / %[1]s) / cos(radians(greatest(abs(ST_YMin(b)), abs(ST_YMax(b))) + h / %[1]s))
				ELSE 360 END,
				h / %[1]s) $$`, strconv.FormatFloat(metresPerDegree, 'g', -1, 64)),
	}
	for _, s := range stmts {
		if _, err := c.Exec(ctx, s); err != nil {
			tb.Fatalf("%s: %v", s, err)
		}
	}
	for d, m := range coalition.Margins {
		if _, err := c.Exec(ctx, `INSERT INTO margins VALUES ($1, $2, $3::text::numeric, $4::bigint * interval '1 microsecond')`,
			string(d), m.Horizontal, strconv.FormatFloat(m.Vertical, 'g', -1, 64), m.Time.Microseconds()); err != nil {
			tb.Fatal(err)
		}
	}
	// One degree of the equator on PostGIS's sphere gives its radius.
	var deg float64
	if err := c.QueryRow(ctx, `SELECT ST_Distance('SRID=4326;POINT(0 0)'::geography, 'SRID=4326;POINT(1 0)'::geography, false)`).Scan(&deg); err != nil {
		tb.Fatal(err)
	}
	return deg * 180 / math.Pi / geo.EarthRadius
}

// pgWKT returns the core of a generated volume's footprint as WKT
// (longitude first) and its radius.
func pgWKT(v *Vol, f *truce.Footprint) (string, float64) {
	var sb strings.Builder
	pts := v.Shape.Vertices()
	coords := func(close bool) {
		for i, p := range pts {
			if i > 0 {
				sb.WriteString(",")
			}
			sb.WriteString(strconv.FormatFloat(p.Lon, 'g', -1, 64) + " " + strconv.FormatFloat(p.Lat, 'g', -1, 64))
		}
		if close {
			p := pts[0]
			sb.WriteString("," + strconv.FormatFloat(p.Lon, 'g', -1, 64) + " " + strconv.FormatFloat(p.Lat, 'g', -1, 64))
		}
	}
	switch {
	case f.Circle != nil:
		sb.WriteString("POINT(")
		coords(false)
		sb.WriteString(")")
		return sb.String(), f.Circle.Radius
	case f.Path != nil:
		sb.WriteString("LINESTRING(")
		coords(false)
		sb.WriteString(")")
		return sb.String(), f.HalfWidth
	default:
		sb.WriteString("POLYGON((")
		coords(true)
		sb.WriteString("))")
		return sb.String(), 0
	}
}

// pgLoad copies the volumes into table name and indexes it; it returns
// the time spent loading and indexing.
func pgLoad(tb testing.TB, c *pgx.Conn, name string, acts []truce.Activity, vols []Vol) (load, index time.Duration) {
	ctx := context.Background()
	t0 := time.Now()
	for _, s := range []string{
		`DROP TABLE IF EXISTS ` + name,
		`DROP TABLE IF EXISTS vols_in`,
		`CREATE UNLOGGED TABLE vols_in (id int4, dom text, wkt text, radius float8,
			minlon float8, minlat float8, maxlon float8, maxlat float8,
			minalt float8, maxalt float8, t0 timestamptz, t1 timestamptz)`,
	} {
		if _, err := c.Exec(ctx, s); err != nil {
			tb.Fatalf("%s: %v", s, err)
		}
	}
	_, err := c.CopyFrom(ctx, pgx.Identifier{"vols_in"},
		[]string{"id", "dom", "wkt", "radius", "minlon", "minlat", "maxlon", "maxlat", "minalt", "maxalt", "t0", "t1"},
		pgx.CopyFromSlice(len(vols), func(i int) ([]any, error) {
			v := &vols[i]
			wkt, r := pgWKT(v, &acts[i].Volumes[0].Footprint)
			return []any{int32(i), string(v.Domain), wkt, r, v.Bound.MinLon, v.Bound.MinLat, v.Bound.MaxLon, v.Bound.MaxLat,
				v.MinAlt, v.MaxAlt, time.UnixMicro(v.From), time.UnixMicro(v.Until)}, nil
		}))
	if err != nil {
		tb.Fatal(err)
	}
	// float8 -> text -> numeric keeps the shortest exact decimal of the
	// float (a direct float8::numeric cast rounds to 15 digits).
	for _, s := range []string{
		`CREATE TABLE ` + name + ` AS SELECT i.id, i.dom,
			ST_GeomFromText(i.wkt, 4326)::geometry(Geometry,4326) AS geom,
			ST_GeomFromText(i.wkt, 4326)::geography AS geog,
			i.radius,
			ST_MakeEnvelope(i.minlon, i.minlat, i.maxlon, i.maxlat, 4326)::geometry(Polygon,4326) AS bound,
			numrange(i.minalt::text::numeric, i.maxalt::text::numeric, '[]') AS alt,
			tstzrange(i.t0, i.t1, '[)') AS period,
			m.h_m, m.v_m, m.t_m
			FROM vols_in i JOIN margins m USING (dom) ORDER BY i.id`,
		`DROP TABLE vols_in`,
	} {
		if _, err := c.Exec(ctx, s); err != nil {
			tb.Fatalf("%s: %v", s, err)
		}
	}
	load = time.Since(t0)
	t0 = time.Now()
	// One multicolumn GiST over the three ranges a candidate must overlap:
	// geometry (gist_geometry_ops_2d), tstzrange and numrange (range_ops).
	// No btree_gist: no scalar column is in it.
	for _, s := range []string{
		`CREATE INDEX ON ` + name + ` USING gist (bound, period, alt)`,
		`ANALYZE ` + name,
	} {
		if _, err := c.Exec(ctx, s); err != nil {
			tb.Fatalf("%s: %v", s, err)
		}
	}
	return load, time.Since(t0)
}

// pgPairPredicate is the conflict test between rows a and b; k turns Go
// metres into PostGIS sphere metres.
func pgPairPredicate(k float64) string {
	mx := pgMaxMargin()
	return fmt.Sprintf(`b.bound && reach_box(a.bound, %[1]s)
	AND b.period && tstzrange(lower(a.period) - %[2]s, upper(a.period) + %[2]s, '[)')
	AND b.alt && numrange(lower(a.alt) - %[3]s, upper(a.alt) + %[3]s, '[]')
	AND lower(a.period) < upper(b.period) + greatest(a.t_m, b.t_m)
	AND lower(b.period) < upper(a.period) + greatest(a.t_m, b.t_m)
	AND lower(a.alt) <= upper(b.alt) + greatest(a.v_m, b.v_m)
	AND lower(b.alt) <= upper(a.alt) + greatest(a.v_m, b.v_m)
	AND ST_DWithin(a.geog, b.geog, (a.radius + b.radius + greatest(a.h_m, b.h_m)) * %[4]s, false)`,
		strconv.FormatFloat(mx.Horizontal, 'g', -1, 64),
		fmt.Sprintf("interval '%d microseconds'", mx.Time.Microseconds()),
		strconv.FormatFloat(mx.Vertical, 'g', -1, 64),
		strconv.FormatFloat(k, 'g', -1, 64))
}

// pgQuerySQL returns the volumes of table name that conflict with the
// volume given as parameters.
func pgQuerySQL(name string, k float64) string {
	return `WITH a AS (SELECT ST_GeomFromText($1, 4326)::geography AS geog, $2::float8 AS radius,
		ST_MakeEnvelope($3, $4, $5, $6, 4326) AS bound,
		numrange($7::float8::text::numeric, $8::float8::text::numeric, '[]') AS alt,
		tstzrange($9::timestamptz, $10::timestamptz, '[)') AS period,
		m.h_m, m.v_m, m.t_m FROM margins m WHERE m.dom = $11)
	SELECT b.id FROM a, ` + name + ` b WHERE ` + pgPairPredicate(k)
}

func pgQueryArgs(v *Vol, f *truce.Footprint) []any {
	wkt, r := pgWKT(v, f)
	return []any{wkt, r, v.Bound.MinLon, v.Bound.MinLat, v.Bound.MaxLon, v.Bound.MaxLat,
		v.MinAlt, v.MaxAlt, time.UnixMicro(v.From), time.UnixMicro(v.Until), string(v.Domain)}
}

func pgIDs(tb testing.TB, c *pgx.Conn, sql string, args ...any) []int32 {
	rows, err := c.Query(context.Background(), sql, args...)
	if err != nil {
		tb.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		tb.Fatal(err)
	}
	return ids
}

// pgWhy describes how the two sides judge volumes p and q of table name.
func pgWhy(tb testing.TB, c *pgx.Conn, name string, k float64, vols []Vol, p, q int32) string {
	a, b := &vols[p], &vols[q]
	m := coalition.Margin(a.Domain, b.Domain)
	gap, _ := a.Shape.Gap(b.Shape)
	var kinds string
	var dist, reach float64
	var okT, okA, okH bool
	err := c.QueryRow(context.Background(), `SELECT GeometryType(a.geom) || '/' || GeometryType(b.geom),
		ST_Distance(a.geog, b.geog, false) / $3, a.radius + b.radius + greatest(a.h_m, b.h_m),
		lower(a.period) < upper(b.period) + greatest(a.t_m, b.t_m) AND lower(b.period) < upper(a.period) + greatest(a.t_m, b.t_m),
		lower(a.alt) <= upper(b.alt) + greatest(a.v_m, b.v_m) AND lower(b.alt) <= upper(a.alt) + greatest(a.v_m, b.v_m),
		ST_DWithin(a.geog, b.geog, (a.radius + b.radius + greatest(a.h_m, b.h_m)) * $3, false)
		FROM `+name+` a, `+name+` b WHERE a.id = $1 AND b.id = $2`, p, q, k).Scan(&kinds, &dist, &reach, &okT, &okA, &okH)
	if err != nil {
		return fmt.Sprintf("[%d %d]: %v", p, q, err)
	}
	return fmt.Sprintf("[%d %d] %s %s/%s: Go gap %.3f m (margin %g m), Go Within %v; PostGIS core distance %.3f m (Go metres), limit %.3f m, time %v alt %v ST_DWithin %v",
		p, q, kinds, a.Domain, b.Domain, gap, m.Horizontal, a.Shape.Within(b.Shape, m.Horizontal), dist, reach, okT, okA, okH)
}

var pgMillion struct {
	once   sync.Once
	conn   *pgx.Conn
	sql    string
	q      []Vol
	qf     []truce.Footprint
	checks int
	bad    []string
}

// BenchmarkPostGISQuery1M is BenchmarkQuery1M in PostGIS: the same
// 1,000,000 volumes (seed 1, a week) and query volumes (seed 2), one query
// per op over a prepared statement on loopback; it reports the p99 latency
// and the conflicts found per op. The first 200 queries' answers are
// checked against the Go Index's.
func BenchmarkPostGISQuery1M(b *testing.B) {
	c := pgConn(b)
	c.Close(context.Background())
	pm := &pgMillion
	pm.once.Do(func() {
		pm.conn = pgConn(b)
		k := pgSchema(b, pm.conn)
		acts, vols := benchSet(b, 1, 1_000_000, 7*24*time.Hour)
		load, index := pgLoad(b, pm.conn, "vols1m", acts, vols)
		b.Logf("PostGIS: 1,000,000 volumes copied in %.1f s, GiST built and analysed in %.1f s", load.Seconds(), index.Seconds())
		pm.sql = pgQuerySQL("vols1m", k)
		qacts, qs := benchSet(b, 2, 10_000, 7*24*time.Hour)
		pm.q = qs
		pm.qf = make([]truce.Footprint, len(qacts))
		for i := range qacts {
			pm.qf[i] = qacts[i].Volumes[0].Footprint
		}
		// The Go Index's answers for the first queries.
		x := NewIndex(&coalition, IndexOptions{})
		for _, v := range vols {
			x.Add(v)
		}
		pm.checks = 200
		for i := range pm.checks {
			q := qs[i]
			q.Owner = -1
			var want []int32
			x.Near(&q, func(id uint32, _ *Vol) bool { want = append(want, int32(id)); return true })
			got := pgIDs(b, pm.conn, pm.sql, pgQueryArgs(&qs[i], &pm.qf[i])...)
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(want, got) {
				pm.bad = append(pm.bad, fmt.Sprintf("query %d (gen-%07d, seed 2): Go %v, PostGIS %v", i, i, want, got))
				for _, id := range want {
					if !slices.Contains(got, id) {
						d, _ := q.Shape.Gap(vols[id].Shape)
						pm.bad = append(pm.bad, fmt.Sprintf("  only Go: %d (%s, %s/%s): Go gap %.3f m, margin %g m", id, acts[id].ID, q.Domain, vols[id].Domain, d, coalition.Margin(q.Domain, vols[id].Domain).Horizontal))
					}
				}
				for _, id := range got {
					if !slices.Contains(want, id) {
						d, _ := q.Shape.Gap(vols[id].Shape)
						pm.bad = append(pm.bad, fmt.Sprintf("  only PostGIS: %d (%s, %s/%s): Go gap %.3f m, margin %g m", id, acts[id].ID, q.Domain, vols[id].Domain, d, coalition.Margin(q.Domain, vols[id].Domain).Horizontal))
					}
				}
			}
		}
		var plan strings.Builder
		rows, err := pm.conn.Query(context.Background(), "EXPLAIN "+pm.sql, pgQueryArgs(&qs[0], &pm.qf[0])...)
		if err == nil {
			for rows.Next() {
				var l string
				rows.Scan(&l)
				plan.WriteString("\n" + l)
			}
			rows.Close()
		}
		b.Logf("query plan:%s", plan.String())
	})
	if len(pm.bad) > 0 {
		b.Errorf("PostGIS and the Go Index disagree on %d of the first %d queries:\n%s", len(pm.bad), pm.checks, strings.Join(pm.bad, "\n"))
	} else {
		b.Logf("the first %d queries: PostGIS finds the same conflicts as the Go Index", pm.checks)
	}
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	found := 0
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		j := i % len(pm.q)
		args := pgQueryArgs(&pm.q[j], &pm.qf[j])
		t0 := time.Now()
		rows, err := pm.conn.Query(ctx, pm.sql, args...)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
			found++
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
	b.ReportMetric(float64(found)/float64(len(lat)), "conflicts/op")
}

// BenchmarkPostGISPairs200k is BenchmarkPairs200k in PostGIS: every
// conflicting pair among a day's 200,000 volumes (seed 3) in one self-join
// (table loaded and indexed beforehand, not timed). The set of pairs is
// compared with Index.Pairs().
func BenchmarkPostGISPairs200k(b *testing.B) {
	c := pgConn(b)
	defer c.Close(context.Background())
	ctx := context.Background()
	k := pgSchema(b, c)
	acts, vols := benchSet(b, 3, 200_000, 24*time.Hour)
	load, index := pgLoad(b, c, "vols200k", acts, vols)
	b.Logf("PostGIS: 200,000 volumes copied in %.1f s, GiST built and analysed in %.1f s", load.Seconds(), index.Seconds())
	from := ` FROM vols200k a JOIN vols200k b ON a.id < b.id AND ` + pgPairPredicate(k)

	// The pairs themselves, against the Go Index's.
	x := NewIndex(&coalition, IndexOptions{})
	for _, v := range vols {
		x.Add(v)
	}
	goPairs := map[[2]int32]bool{}
	for _, p := range x.Pairs() {
		a, c := int32(p[0]), int32(p[1])
		goPairs[[2]int32{min(a, c), max(a, c)}] = true
	}
	rows, err := c.Query(ctx, `SELECT a.id, b.id`+from)
	if err != nil {
		b.Fatal(err)
	}
	sqlPairs := map[[2]int32]bool{}
	var onlySQL, onlyGo []string
	for rows.Next() {
		var p [2]int32
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			b.Fatal(err)
		}
		sqlPairs[p] = true
		if !goPairs[p] && len(onlySQL) < 50 {
			onlySQL = append(onlySQL, fmt.Sprint(p))
		}
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	for p := range goPairs {
		if !sqlPairs[p] && len(onlyGo) < 50 {
			onlyGo = append(onlyGo, fmt.Sprint(p))
		}
	}
	if len(sqlPairs) != len(goPairs) || len(onlySQL)+len(onlyGo) > 0 {
		var why []string
		for _, l := range append(slices.Clone(onlySQL[:min(len(onlySQL), 10)]), onlyGo[:min(len(onlyGo), 10)]...) {
			var p, q int32
			fmt.Sscanf(l, "[%d %d]", &p, &q)
			why = append(why, pgWhy(b, c, "vols200k", k, vols, p, q))
		}
		b.Errorf("PostGIS finds %d pairs, Index.Pairs %d; only PostGIS (first 50, gen ids of seed 3): %v; only Go: %v\n%s",
			len(sqlPairs), len(goPairs), onlySQL, onlyGo, strings.Join(why, "\n"))
	} else {
		b.Logf("PostGIS finds the same %d pairs as Index.Pairs", len(goPairs))
	}
	var plan strings.Builder
	if rows, err := c.Query(ctx, `EXPLAIN SELECT count(*)`+from); err == nil {
		for rows.Next() {
			var l string
			rows.Scan(&l)
			plan.WriteString("\n" + l)
		}
		rows.Close()
	}
	b.Logf("pairs plan:%s", plan.String())

	var pairs int64
	b.ResetTimer()
	for b.Loop() {
		if err := c.QueryRow(ctx, `SELECT count(*)`+from).Scan(&pairs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(pairs), "pairs")
}
