package main

import (
	"runtime/debug"
	"testing"
)

// TestFallbackVersion: a binary built without the release's -ldflags reports
// the module version `go install ...@vX.Y.Z` recorded, else the VERSION file,
// never an empty version.
func TestFallbackVersion(t *testing.T) {
	for _, tc := range []struct {
		main, file, want string
	}{
		{"v1.2.3", "0.1.0\n", "1.2.3"},
		{"(devel)", "0.1.0\n", "0.1.0"},
		{"v0.0.0-20261207171300-0123456789ab+dirty", "0.1.0\n", "0.1.0"},
		{"", "", "unknown"},
	} {
		info := &debug.BuildInfo{Main: debug.Module{Version: tc.main}}
		if got := fallbackVersion(info, tc.file); got != tc.want {
			t.Errorf("fallbackVersion(%q, %q) = %q, want %q", tc.main, tc.file, got, tc.want)
		}
	}
	if got := fallbackVersion(nil, "0.2.0"); got != "0.2.0" {
		t.Errorf("without build information: %q, want 0.2.0", got)
	}
}
