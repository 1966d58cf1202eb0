package allocs

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// recorder is a Fataler that keeps the failure instead of stopping.
type recorder struct{ failed string }

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
}

var sink []byte

func TestExactCountsWhatIsAllocated(t *testing.T) {
	n := Exact(func() { sink = make([]byte, 1<<20) })
	assert.GreaterOrEqual(t, n, uint64(1<<20))
	assert.Less(t, n, uint64(1<<20+4096))
}

func TestWithin(t *testing.T) {
	b := Bound{Base: 64 << 10, PerByte: 8}
	assert.Equal(t, uint64(64<<10+8*100), b.Limit(100))

	var r recorder
	b.Within(&r, "a small call", 100, func() { sink = make([]byte, 1024) })
	assert.Empty(t, r.failed)

	b.Within(&r, "a large call", 100, func() { sink = make([]byte, 1<<20) })
	assert.Contains(t, r.failed, "a large call of 100 bytes allocated")
	assert.Contains(t, r.failed, "more than its bound 65536 + 8*100 = 66336")
}
