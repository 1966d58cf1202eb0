package inspect

import (
	"testing"

	"pgregory.net/rapid"
)

// apply checks that es is a well-formed edit script from a to b (every
// index in order, kept elements equal) and returns how many it keeps.
func apply(t *rapid.T, a, b []int, es []edit) int {
	i, j, keeps := 0, 0, 0
	for _, e := range es {
		switch e.op {
		case keep:
			if e.i != i || e.j != j || a[i] != b[j] {
				t.Fatalf("keep %+v at a[%d], b[%d]", e, i, j)
			}
			i, j, keeps = i+1, j+1, keeps+1
		case del:
			if e.i != i {
				t.Fatalf("delete %+v at a[%d]", e, i)
			}
			i++
		case ins:
			if e.j != j {
				t.Fatalf("insert %+v at b[%d]", e, j)
			}
			j++
		}
	}
	if i != len(a) || j != len(b) {
		t.Fatalf("the script stops at a[%d], b[%d] of %d, %d", i, j, len(a), len(b))
	}
	return keeps
}

// lcs is the length of a longest common subsequence, by dynamic
// programming: the model a shortest edit script must agree with.
func lcs(a, b []int) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

func TestEditScriptIsShortest(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := rapid.SliceOfN(rapid.IntRange(0, 3), 0, 30).Draw(t, "a")
		b := rapid.SliceOfN(rapid.IntRange(0, 3), 0, 30).Draw(t, "b")
		es := editScript(len(a), len(b), func(i, j int) bool { return a[i] == b[j] })
		if keeps, want := apply(t, a, b, es), lcs(a, b); keeps != want {
			t.Fatalf("the script keeps %d elements, a longest common subsequence has %d", keeps, want)
		}
	})
}

// Beyond maxEditDistance differences the script is still correct, with
// the middle replaced whole.
func TestEditScriptTooDifferent(t *testing.T) {
	n := maxEditDistance
	a, b := make([]int, n+2), make([]int, n+2)
	for i := range n {
		a[i+1], b[i+1] = 1, 2
	}
	es := editScript(len(a), len(b), func(i, j int) bool { return a[i] == b[j] })
	dels, inss, keeps := 0, 0, 0
	for _, e := range es {
		switch e.op {
		case keep:
			keeps++
		case del:
			dels++
		case ins:
			inss++
		}
	}
	if keeps != 2 || dels != n || inss != n {
		t.Fatalf("kept %d, deleted %d, inserted %d; want 2, %d, %d", keeps, dels, inss, n, n)
	}
}
