package scratch

import (
	"slices"
	"testing"
)

func TestFailedPackages(t *testing.T) {
	out := `ok  	github.com/ckptsim/ckptsim/ckpt	1.2s
--- FAIL: TestRoundTripIsIdentity (0.10s)
FAIL
FAIL	github.com/ckptsim/ckptsim/props	3.1s
FAIL	github.com/ckptsim/ckptsim/sim/mm [build failed]
FAIL	example.com/other	0.1s
`
	got := FailedPackages(out)
	if want := []string{"./props", "./sim/mm"}; !slices.Equal(got, want) {
		t.Fatalf("FailedPackages = %q, want %q", got, want)
	}
}
