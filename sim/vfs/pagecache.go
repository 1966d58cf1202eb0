package vfs

// A regular file's page cache is its contents: a memory mapping of the file
// (package mm) reads and stores the inode's bytes directly, so a store
// through a shared mapping is a write to the file and a write(2) shows at
// once in every mapping. What the contents alone cannot hold, the page cache
// keeps beside them, as Linux's does:
//
//   - The tail: the bytes of the last page past the end of the file. They
//     read 0, but a store through a shared mapping sets them, and they stay
//     in memory only, never in the file (read(2) stops at the end) until
//     the file grows over them; then they are what the growth wrote, or the
//     zeros of a hole. Bytes past the new end keep what was stored.
//   - The mappings (Linux's i_mmap): truncation tells each to drop its
//     private copies of the pages past the new end, which then fault.
//
// Pages wholly past the end of the file are not in the page cache: a
// mapping faults on them (SIGBUS).

// Mapping is a memory mapping of a regular file: a VMA of package mm. The
// inode lists its mappings so that truncation can reach them without this
// package importing mm.
type Mapping interface {
	// Truncated says that the file was cut to size bytes: the mapping
	// drops its private copies of the pages at and past the page that
	// holds byte size rounded up to a page (Linux's unmap_mapping_range
	// with even_cows).
	Truncated(size int64)
}

// AddMapping lists m as a mapping of the file.
func (i *Inode) AddMapping(m Mapping) {
	if i.mappings == nil {
		i.mappings = map[Mapping]struct{}{}
	}
	i.mappings[m] = struct{}{}
}

// RemoveMapping forgets m.
func (i *Inode) RemoveMapping(m Mapping) { delete(i.mappings, m) }

// HasMapping reports whether m is listed as a mapping of the file.
func (i *Inode) HasMapping(m Mapping) bool {
	_, ok := i.mappings[m]
	return ok
}

// Mappings returns the file's mappings, in no particular order.
func (i *Inode) Mappings() []Mapping {
	out := make([]Mapping, 0, len(i.mappings))
	for m := range i.mappings {
		out = append(out, m)
	}
	return out
}

// CachePages returns how many pages the page cache holds: the pages that
// hold a byte of the file. A mapping faults on any page past them.
func (i *Inode) CachePages() int64 { return (int64(len(i.data)) + PageSize - 1) / PageSize }

// ReadCache copies the page-cache bytes at offset off into p: the file's
// bytes, then the tail. The caller keeps off and p within CachePages.
func (i *Inode) ReadCache(off int64, p []byte) {
	size := int64(len(i.data))
	n := 0
	if off < size {
		n = copy(p, i.data[off:])
	}
	for k := n; k < len(p); k++ {
		p[k] = i.tailByte(off + int64(k) - size)
	}
}

// WriteCache stores p at offset off, as a store through a shared mapping
// does: bytes within the file change the file, bytes past its end change
// the tail. Either way the change counter moves, as a write's does, so that
// a checkpoint of the file is known to be stale. The caller keeps off and p
// within CachePages.
func (i *Inode) WriteCache(off int64, p []byte) {
	size := int64(len(i.data))
	n := 0
	if off < size {
		n = copy(i.data[off:], p)
	}
	if n < len(p) {
		if i.tail == nil {
			i.tail = make([]byte, i.tailLen())
		}
		copy(i.tail[off+int64(n)-size:], p[n:])
	}
	i.changes++
}

// Tail returns the bytes of the last page past the end of the file, or nil
// when they are all zero.
func (i *Inode) Tail() []byte {
	for _, b := range i.tail {
		if b != 0 {
			return append([]byte(nil), i.tail...)
		}
	}
	return nil
}

// SetTail replaces the tail, as restart does; a longer tail than the last
// page has room for is cut to that room.
func (i *Inode) SetTail(tail []byte) {
	i.tail = nil
	if len(tail) > 0 {
		i.tail = make([]byte, i.tailLen())
		copy(i.tail, tail)
	}
}

// tailLen returns how many bytes of the last page lie past the end.
func (i *Inode) tailLen() int64 {
	size := int64(len(i.data))
	return (size+PageSize-1)/PageSize*PageSize - size
}

func (i *Inode) tailByte(k int64) byte {
	if k < int64(len(i.tail)) {
		return i.tail[k]
	}
	return 0
}

// grow extends the file with zeros to size bytes, for a write or a hole
// past the end. The tail bytes the file now covers are replaced (by the
// zeros, which the caller may overwrite with what it writes); those past
// the new end, in the same last page, keep what was stored in them.
func (i *Inode) grow(size int64) {
	old := int64(len(i.data))
	if size <= old {
		return
	}
	var kept []byte
	if sameLastPage := (old+PageSize-1)/PageSize == (size+PageSize-1)/PageSize; sameLastPage && i.tail != nil {
		kept = i.tail[size-old:]
	}
	i.data = append(i.data, make([]byte, size-old)...)
	i.tail = nil
	if len(kept) > 0 {
		i.tail = append(make([]byte, 0, len(kept)), kept...)
	}
}

// truncate cuts the file to size bytes (O_TRUNC cuts to 0): the bytes past
// the new end read 0 again, and every mapping drops its private copies of
// the pages past it, so that those fault as the page cache's do.
func (i *Inode) truncate(size int64) {
	if size >= int64(len(i.data)) {
		return
	}
	i.data = i.data[:size:size]
	i.tail = nil
	for m := range i.mappings {
		m.Truncated(size)
	}
}

// replace makes contents the file's, as WriteFile does: a truncation to
// nothing, then a write.
func (i *Inode) replace(contents []byte) {
	i.truncate(0)
	i.grow(int64(len(contents)))
	copy(i.data, contents)
	i.changes++
}
