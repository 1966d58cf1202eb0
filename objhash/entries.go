package objhash

// chunkSize is how many entries a chunk holds: 256 entries of 32 bytes, 8 KiB.
const chunkSize = 256

// entryList holds a table's entries in the order they entered, in chunks
// that never move. A plain slice would copy every entry each time it grew,
// which on the benchmark of new objects cost more than the map itself; and
// since chunks stay put, an *entry stays valid while ops called from the
// table add entries of their own.
type entryList struct {
	chunks []*[chunkSize]entry
	n      int32
}

func (l *entryList) len() int32 { return l.n }

func (l *entryList) at(i int32) *entry {
	return &l.chunks[i/chunkSize][i%chunkSize]
}

// push appends e and returns where it is now kept.
func (l *entryList) push(e entry) *entry {
	i := l.n
	if int(i/chunkSize) == len(l.chunks) {
		l.chunks = append(l.chunks, new([chunkSize]entry))
	}
	p := l.at(i)
	*p = e
	l.n++
	return p
}
