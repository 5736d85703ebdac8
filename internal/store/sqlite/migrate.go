package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

// migrations holds the schema, one numbered step per pair of files
// NNNN_name.up.sql and NNNN_name.down.sql. A step, once released, never
// changes: a new schema is a new step.
//
//go:embed migrations/*.sql
var migrations embed.FS

// migration is one step of the schema.
type migration struct {
	version  int
	name     string
	up, down string
}

// loadMigrations returns the embedded steps in version order.
func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrations, "migrations/*.up.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "migrations/"), ".up.sql")
		num, name, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name is not NNNN_name.up.sql", n)
		}
		up, err := fs.ReadFile(migrations, n)
		if err != nil {
			return nil, err
		}
		down, err := fs.ReadFile(migrations, "migrations/"+base+".down.sql")
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", n, err)
		}
		ms = append(ms, migration{version: v, name: name, up: string(up), down: string(down)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %04d_%s: want version %d", m.version, m.name, i+1)
		}
	}
	return ms, nil
}

// schemaVersion returns the version recorded in schema_migrations, 0 for
// a database without one.
func schemaVersion(ctx context.Context, c *sql.Conn) (int, error) {
	var v int
	err := c.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&v)
	return v, err
}

// checkSchema reports whether the database is at this program's schema
// version, for a read-only open that may not migrate it.
func checkSchema(ctx context.Context, c *sql.Conn) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	v, err := schemaVersion(ctx, c)
	if err != nil {
		return fmt.Errorf("no schema: %w", err)
	}
	if v != len(ms) {
		return fmt.Errorf("database schema version %d, not this program's %d: open it once with truce serve or truce rebuild to migrate it", v, len(ms))
	}
	return nil
}

// migrate brings the schema of the database to version target (len of the
// embedded steps when target < 0), up or down, in one immediate
// transaction, so that two processes opening a new file do not both apply
// a step.
func migrate(ctx context.Context, c *sql.Conn, target int) (err error) {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	if target < 0 {
		target = len(ms)
	}
	if target > len(ms) {
		return fmt.Errorf("no migration to version %d", target)
	}
	if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_, _ = c.ExecContext(context.Background(), "ROLLBACK")
			return
		}
		if _, err = c.ExecContext(ctx, "COMMIT"); err != nil {
			_, _ = c.ExecContext(context.Background(), "ROLLBACK")
		}
	}()
	if _, err := c.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)"); err != nil {
		return err
	}
	v, err := schemaVersion(ctx, c)
	if err != nil {
		return err
	}
	if v > len(ms) {
		return fmt.Errorf("database schema version %d is newer than this program's %d", v, len(ms))
	}
	for ; v < target; v++ {
		m := ms[v]
		if _, err := c.ExecContext(ctx, m.up); err != nil {
			return fmt.Errorf("migration %04d_%s up: %w", m.version, m.name, err)
		}
		if _, err := c.ExecContext(ctx, "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", m.version, m.name); err != nil {
			return err
		}
	}
	for ; v > target; v-- {
		m := ms[v-1]
		if _, err := c.ExecContext(ctx, m.down); err != nil {
			return fmt.Errorf("migration %04d_%s down: %w", m.version, m.name, err)
		}
		if _, err := c.ExecContext(ctx, "DELETE FROM schema_migrations WHERE version = ?", m.version); err != nil {
			return err
		}
	}
	return nil
}
