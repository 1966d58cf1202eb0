package mm

import (
	"errors"

	"github.com/ckptsim/ckptsim/sim/errno"
)

// madvise advice, with Linux's values. Other advice is not modelled
// (EINVAL).
const (
	MADV_NORMAL     = 0
	MADV_RANDOM     = 1
	MADV_SEQUENTIAL = 2
	MADV_WILLNEED   = 3
	MADV_DONTNEED   = 4
)

// msync flags, with Linux's values.
const (
	MS_ASYNC      = 1
	MS_INVALIDATE = 2
	MS_SYNC       = 4
)

// Madvise applies advice to [addr, addr+length), as madvise(2), with length
// rounded up to a page:
//
//   - MADV_DONTNEED drops the private pages of the range: private
//     anonymous memory reads 0 again, a private file page reads the file
//     again; shared pages keep their contents.
//   - MADV_RANDOM and MADV_SEQUENTIAL set a VMA flag (RandRead, SeqRead),
//     MADV_NORMAL clears both; like mprotect this splits or merges VMAs,
//     and the map-count limit makes it EAGAIN.
//   - MADV_WILLNEED does nothing.
//
// Unknown advice or an unaligned address is EINVAL, as is a length that
// wraps; a length of 0 is 0. A range with unmapped pages is ENOMEM, after
// the advice has been applied to the mapped ones.
func (m *MM) Madvise(addr, length uint64, advice int) error {
	if advice < MADV_NORMAL || advice > MADV_DONTNEED || !aligned(addr) {
		return errno.EINVAL
	}
	rounded := pageUp(length)
	end := addr + rounded
	switch {
	case length != 0 && rounded == 0, end < addr:
		return errno.EINVAL
	case end == addr:
		return nil
	}
	return m.walk(addr, end, func(i int, start, end uint64) (int, error) {
		v := m.vmas[i]
		var flags Flags
		switch advice {
		case MADV_DONTNEED:
			if v.private() {
				for _, a := range m.framesIn(start, end) {
					m.unmapPage(a)
				}
			}
			return i, nil
		case MADV_WILLNEED:
			return i, nil
		case MADV_RANDOM:
			flags = v.flags&^SeqRead | RandRead
		case MADV_SEQUENTIAL:
			flags = v.flags&^RandRead | SeqRead
		case MADV_NORMAL:
			flags = v.flags &^ (RandRead | SeqRead)
		}
		if flags == v.flags {
			return i, nil
		}
		j, err := m.modify(i, start, end, v.prot, flags)
		if errors.Is(err, errno.ENOMEM) {
			err = errno.EAGAIN // madvise says so for a shortage of kernel resources
		}
		return j, err
	})
}

// walk calls fn for each VMA that meets [start, end), with the part of the
// range it holds, as Linux's madvise_walk_vmas: fn returns the position of
// the VMA that then holds that part. Unmapped pages in the range make the
// walk ENOMEM once it is done.
func (m *MM) walk(start, end uint64, fn func(i int, start, end uint64) (int, error)) error {
	var unmapped error
	for {
		i := m.index(start)
		if i == len(m.vmas) {
			return errno.ENOMEM
		}
		v := m.vmas[i]
		if start < v.start {
			unmapped = errno.ENOMEM
			if start = v.start; start >= end {
				return unmapped
			}
		}
		j, err := fn(i, start, min(v.end, end))
		if err != nil {
			return err
		}
		if start = m.vmas[j].end; start >= end {
			return unmapped
		}
	}
}

// Msync checks a range as msync(2) would before writing it back: flags
// other than MS_ASYNC, MS_INVALIDATE and MS_SYNC, MS_ASYNC with MS_SYNC,
// or an unaligned address are EINVAL; a range that wraps or has unmapped
// pages is ENOMEM; a length of 0 is 0. There is nothing to write back: a
// shared file mapping's page cache is the file.
func (m *MM) Msync(addr, length uint64, flags int) error {
	switch {
	case flags&^(MS_ASYNC|MS_INVALIDATE|MS_SYNC) != 0, !aligned(addr), flags&MS_ASYNC != 0 && flags&MS_SYNC != 0:
		return errno.EINVAL
	}
	end := addr + pageUp(length)
	switch {
	case end < addr:
		return errno.ENOMEM
	case end == addr:
		return nil
	}
	return m.walk(addr, end, func(i int, _, _ uint64) (int, error) { return i, nil })
}
