package inspect

// This file finds how one sequence becomes another: the shortest edit
// script of Myers' O(ND) algorithm ("An O(ND) Difference Algorithm and Its
// Variations", 1986), over any two sequences given by their lengths and an
// equality function. Diff uses it for records, and for the lines of two
// texts.

// edit is one step of an edit script: keep a[i] as b[j], delete a[i], or
// insert b[j].
type edit struct {
	op   editOp
	i, j int // indices in a and b; for a delete j is where b stands, for an insert i where a stands
}

type editOp uint8

const (
	keep editOp = iota
	del
	ins
)

// maxEditDistance bounds the search. Its cost grows with the square of
// the number of differences, so beyond this many the two sequences are
// compared as common prefix, common suffix, and everything between
// replaced: still correct, less minimal, for inputs that are mostly
// different anyway.
const maxEditDistance = 1000

// editScript returns a shortest edit script turning a (length n) into b
// (length m), where eq(i, j) says whether a[i] equals b[j]. Deletions come
// before insertions at the same place, so a replaced run reads as its old
// records, then its new ones.
func editScript(n, m int, eq func(i, j int) bool) []edit {
	// Trim the common prefix and suffix: golden images mostly agree, and
	// what is trimmed costs nothing below.
	pre := 0
	for pre < n && pre < m && eq(pre, pre) {
		pre++
	}
	suf := 0
	for suf < n-pre && suf < m-pre && eq(n-1-suf, m-1-suf) {
		suf++
	}
	var out []edit
	for k := range pre {
		out = append(out, edit{keep, k, k})
	}
	mid := myers(n-pre-suf, m-pre-suf, func(i, j int) bool { return eq(pre+i, pre+j) })
	for _, e := range mid {
		out = append(out, edit{e.op, e.i + pre, e.j + pre})
	}
	for k := range suf {
		out = append(out, edit{keep, n - suf + k, m - suf + k})
	}
	return out
}

// myers is the greedy forward search of Myers' paper, keeping each
// round's furthest-reaching paths so that the script can be traced back.
func myers(n, m int, eq func(i, j int) bool) []edit {
	max := n + m
	if max == 0 {
		return nil
	}
	limit := min(max, maxEditDistance)
	off := limit + 1
	v := make([]int, 2*limit+3) // v[off+k]: furthest x on diagonal k
	var trace [][]int
	for d := 0; d <= limit; d++ {
		trace = append(trace, append([]int(nil), v...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || k != d && v[off+k-1] < v[off+k+1] {
				x = v[off+k+1] // down: an insertion
			} else {
				x = v[off+k-1] + 1 // right: a deletion
			}
			y := x - k
			for x < n && y < m && eq(x, y) {
				x, y = x+1, y+1
			}
			v[off+k] = x
			if x >= n && y >= m {
				return backtrack(trace, off, d, n, m)
			}
		}
	}
	// Too different to be worth the search: replace the whole of a by b.
	out := make([]edit, 0, n+m)
	for i := range n {
		out = append(out, edit{del, i, 0})
	}
	for j := range m {
		out = append(out, edit{ins, n, j})
	}
	return out
}

// backtrack walks the saved rounds from (n, m) back to (0, 0) and returns
// the script in forward order. trace[d] is the state before round d, from
// which round d's move into the current point was made.
func backtrack(trace [][]int, off, d, n, m int) []edit {
	var rev []edit
	x, y := n, m
	for ; d >= 0; d-- {
		v := trace[d]
		k := x - y
		var prevK int
		if k == -d || k != d && v[off+k-1] < v[off+k+1] {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := v[off+prevK]
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			x, y = x-1, y-1
			rev = append(rev, edit{keep, x, y})
		}
		if d == 0 {
			break
		}
		if x == prevX {
			y--
			rev = append(rev, edit{ins, x, y})
		} else {
			x--
			rev = append(rev, edit{del, x, y})
		}
	}
	out := make([]edit, len(rev))
	for i, e := range rev {
		out[len(rev)-1-i] = e
	}
	return orderDeletesFirst(out)
}

// orderDeletesFirst moves, within each run of changes between two kept
// elements, the deletions before the insertions.
func orderDeletesFirst(es []edit) []edit {
	out := make([]edit, 0, len(es))
	for i := 0; i < len(es); {
		if es[i].op == keep {
			out = append(out, es[i])
			i++
			continue
		}
		j := i
		for j < len(es) && es[j].op != keep {
			j++
		}
		for _, e := range es[i:j] {
			if e.op == del {
				out = append(out, e)
			}
		}
		for _, e := range es[i:j] {
			if e.op == ins {
				out = append(out, e)
			}
		}
		i = j
	}
	return out
}
