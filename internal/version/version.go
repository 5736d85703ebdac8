// Package version reports which build of truce is running: the version set
// at link time (-ldflags "-X github.com/truce-dev/truce/internal/version.Version=v1.2.3"),
// else the module version and VCS revision recorded by the Go toolchain.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is set by the linker for release builds.
var Version = ""

// String returns a one-line description of the build.
func String() string {
	v, rev, dirty := Version, "", false
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if v == "" {
		v = "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" {
		if dirty {
			rev += "+dirty"
		}
		return fmt.Sprintf("truce %s (%s, %s)", v, rev, runtime.Version())
	}
	return fmt.Sprintf("truce %s (%s)", v, runtime.Version())
}
